package banqup_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notifykit/notifykit/banqup"
	"github.com/notifykit/notifykit/banqup/banquptest"
)

// publishThroughRestarts publishes payloads in confirmed batches,
// reconnecting and republishing a batch when the broker goes away, the way
// a well-behaved MassTransit publisher would. Duplicates are fine; loss is
// not.
func publishThroughRestarts(ctx context.Context, t *testing.T, url string, s banqup.Stream, payloads []any) error {
	const batch = 500
	var p *banquptest.Publisher
	defer func() {
		if p != nil {
			p.Close()
		}
	}()
	for i := 0; i < len(payloads); {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if p == nil {
			var err error
			if p, err = banquptest.NewPublisher(ctx, url); err != nil {
				time.Sleep(200 * time.Millisecond)
				continue
			}
		}
		end := min(i+batch, len(payloads))
		bctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		_, err := p.PublishMany(bctx, s, payloads[i:end])
		cancel()
		if err != nil {
			t.Logf("publisher: %v (reconnecting)", err)
			p.Close()
			p = nil
			continue
		}
		i = end
	}
	return nil
}

// TestBrokerRestartedTwiceDuringStream restarts the broker twice while
// 20,000 messages stream through: every one must be handled at least once
// with no manual action.
func TestBrokerRestartedTwiceDuringStream(t *testing.T) {
	const total = 20000
	b := privateRabbit(t)
	queue := uniqueQueue(t)
	handled := newIDSet()
	var disconnects atomic.Int32
	consuming := make(chan struct{}, 16)
	c, err := banqup.NewConsumer(b.URL, queue, testLogger(t),
		banqup.WithReconnectBackoff(func(int) time.Duration { return 200 * time.Millisecond }),
		banqup.WithOnStateChange(func(s banqup.State, _ error) {
			switch s {
			case banqup.StateDisconnected:
				disconnects.Add(1)
			case banqup.StateConsuming:
				select {
				case consuming <- struct{}{}:
				default:
				}
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	c.OnTransaction(func(_ context.Context, e *banqup.TransactionEvent) error {
		handled.add(e.Message.Data.ID)
		return nil
	})
	stop := run(t, c)
	select {
	case <-consuming:
	case <-time.After(30 * time.Second):
		t.Fatal("consumer did not start")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Second)
	defer cancel()
	published := make(chan error, 1)
	go func() {
		published <- publishThroughRestarts(ctx, t, b.URL, banqup.StreamTransaction, txPayloads(0, total))
	}()

	// First a clean restart, then a crash (SIGKILL) and start: unacked
	// deliveries must come back either way.
	eventually(t, 60*time.Second, "progress before restart", func() bool { return handled.len() >= total/4 })
	t.Logf("restarting broker at %d handled", handled.len())
	if err := b.Restart(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "progress before kill", func() bool { return handled.len() >= total*3/5 })
	t.Logf("killing broker at %d handled", handled.len())
	if err := b.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	if err := <-published; err != nil {
		t.Fatalf("publishing: %v", err)
	}
	eventually(t, 60*time.Second, "every message handled", func() bool { return handled.len() == total })
	stop()
	if d := disconnects.Load(); d < 2 {
		t.Errorf("consumer reported %d disconnects, want >= 2", d)
	}
	handled.mu.Lock()
	t.Logf("%d unique ids, %d handler calls (duplicates are redeliveries)", len(handled.ids), handled.calls)
	handled.mu.Unlock()
	if n := len(drain(t, b.URL, queue+"_error")); n != 0 {
		t.Errorf("%d messages in the error queue", n)
	}
}
