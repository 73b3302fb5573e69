package banqup_test

import (
	"context"
	"testing"
	"time"

	"github.com/notifykit/notifykit/banqup"
)

// TestShutdownUnderLoad stops Run while handlers are busy and deliveries
// are prefetched, then starts a second Run: every message must be handled
// by one of them, none may be in the error queue.
func TestShutdownUnderLoad(t *testing.T) {
	const total = 3000
	b := rabbit(t)
	queue := uniqueQueue(t)
	handled := newIDSet()
	newConsumer := func() (*banqup.Consumer, <-chan banqup.State) {
		watch, states := stateWatcher()
		c, err := banqup.NewConsumer(b.URL, queue, watch, banqup.WithPrefetch(200), banqup.WithConcurrency(16),
			banqup.WithOrdering(), banqup.WithShutdownTimeout(10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		c.OnTransaction(func(ctx context.Context, e *banqup.TransactionEvent) error {
			select {
			case <-time.After(2 * time.Millisecond): // busy handler
			case <-ctx.Done():
				return ctx.Err()
			}
			handled.add(e.Message.Data.ID)
			return nil
		})
		return c, states
	}
	c1, states := newConsumer()
	stop := run(t, c1)
	waitState(t, states, banqup.StateConsuming)
	p := publisher(t, b.URL)
	if _, err := p.PublishMany(context.Background(), banqup.StreamTransaction, txPayloads(0, total)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "some progress", func() bool { return handled.len() >= total/5 })
	start := time.Now()
	stop() // fails the test if Run returns an error or hangs
	first := handled.len()
	t.Logf("first run handled %d, shutdown took %v", first, time.Since(start))
	if first >= total {
		t.Fatalf("all %d messages handled before shutdown: the test did not shut down under load", total)
	}
	if n := queueDepth(t, b.URL, queue); first+n < total {
		t.Fatalf("after shutdown %d handled + %d queued < %d published: messages lost", first, n, total)
	}

	c2, states2 := newConsumer()
	run(t, c2)
	waitState(t, states2, banqup.StateConsuming)
	eventually(t, 60*time.Second, "rest handled by second run", func() bool { return handled.len() == total })
	if n := len(drain(t, b.URL, queue+"_error")); n != 0 {
		t.Errorf("%d messages in error queue", n)
	}
}
