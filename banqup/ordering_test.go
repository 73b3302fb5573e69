package banqup_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/notifykit/notifykit/banqup"
)

// TestOrderingPerAccount publishes numbered transactions for a few accounts
// and checks that each account's handler calls see increasing numbers while
// accounts overlap in time.
func TestOrderingPerAccount(t *testing.T) {
	const total, accounts = 2000, 7
	b := rabbit(t)
	queue := uniqueQueue(t)
	watch, states := stateWatcher()
	c, err := banqup.NewConsumer(b.URL, queue, watch, banqup.WithOrdering(), banqup.WithConcurrency(8), banqup.WithPrefetch(64))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	last := map[int64]int{}
	inFlight, maxInFlight, seen := 0, 0, 0
	done := make(chan struct{})
	c.OnTransaction(func(_ context.Context, e *banqup.TransactionEvent) error {
		var n int
		fmt.Sscanf(e.Message.Data.ID, "tx-%d", &n)
		acc := e.Message.Embedded.Account.ID
		mu.Lock()
		if prev, ok := last[acc]; ok && n <= prev {
			t.Errorf("account %d: tx %d after %d", acc, n, prev)
		}
		last[acc] = n
		inFlight++
		maxInFlight = max(maxInFlight, inFlight)
		mu.Unlock()
		time.Sleep(time.Duration(rand.IntN(300)) * time.Microsecond)
		mu.Lock()
		inFlight--
		seen++
		if seen == total {
			close(done)
		}
		mu.Unlock()
		return nil
	})
	run(t, c)
	waitState(t, states, banqup.StateConsuming)
	payloads := make([]any, total)
	for i := range payloads {
		payloads[i] = fmt.Appendf(nil, `{"data":{"id":"tx-%d"},"embedded":{"account":{"id":%d}}}`, i, i%accounts+1)
	}
	p := publisher(t, b.URL)
	if _, err := p.PublishMany(context.Background(), banqup.StreamTransaction, payloads); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("not all handled")
	}
	if maxInFlight < 2 {
		t.Errorf("at most %d handler(s) ran at once: different accounts should run in parallel", maxInFlight)
	}
}
