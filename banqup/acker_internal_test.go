package banqup

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// fakeChannel acks the way RabbitMQ's rabbit_channel:collect_acks does: a
// multiple-ack takes every outstanding tag up to and including the named
// one, which must itself be outstanding ("unknown delivery tag" otherwise).
type fakeChannel struct {
	mu          sync.Mutex
	outstanding map[uint64]bool
	acked       map[uint64]int
	frames      int
	err         error
}

func (f *fakeChannel) deliver(tag uint64) {
	f.mu.Lock()
	f.outstanding[tag] = true
	f.mu.Unlock()
}

func (f *fakeChannel) Ack(tag uint64, multiple bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.frames++
	if !f.outstanding[tag] {
		f.err = fmt.Errorf("unknown delivery tag %d (multiple=%v)", tag, multiple)
		return f.err
	}
	for t := range f.outstanding {
		if t == tag || (multiple && t < tag) {
			delete(f.outstanding, t)
			f.acked[t]++
		}
	}
	return nil
}

func TestAckerNeverAcksOpenDeliveries(t *testing.T) {
	for round := range 20 {
		f := &fakeChannel{outstanding: map[uint64]bool{}, acked: map[uint64]int{}}
		a := newAcker(f, 64, func(error) {})
		const n = 2000
		abandoned := map[uint64]bool{}
		var wg sync.WaitGroup
		work := make(chan uint64, 32)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for tag := range work {
					if rand.IntN(3) == 0 {
						time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond)
					}
					a.ack(tag)
				}
			}()
		}
		for tag := uint64(1); tag <= n; tag++ {
			f.deliver(tag)
			a.received(tag)
			if round%2 == 1 && rand.IntN(100) == 0 {
				abandoned[tag] = true // left for redelivery: never completes
				continue
			}
			work <- tag
		}
		close(work)
		wg.Wait()
		a.close()
		if f.err != nil {
			t.Fatalf("round %d: %v", round, f.err)
		}
		for tag := uint64(1); tag <= n; tag++ {
			switch {
			case abandoned[tag] && f.acked[tag] != 0:
				t.Fatalf("round %d: abandoned delivery %d was acked", round, tag)
			case !abandoned[tag] && f.acked[tag] != 1:
				t.Fatalf("round %d: delivery %d acked %d times", round, tag, f.acked[tag])
			}
		}
		if round < 2 {
			t.Logf("%d deliveries, %d abandoned, %d ack frames", n, len(abandoned), f.frames)
		}
	}
}
