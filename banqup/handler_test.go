package banqup_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notifykit/notifykit"
	"github.com/notifykit/notifykit/banqup"
	"github.com/notifykit/notifykit/banqup/banquptest"
)

// TestGenericHandlerWithMiddleware routes every stream through one
// notifykit.Handler behind Dedupe: a redelivered message id reaches the
// handler once, a new id for the same entity (banqUP's re-sync) again.
func TestGenericHandlerWithMiddleware(t *testing.T) {
	b := rabbit(t)
	queue := uniqueQueue(t)
	watch, states := stateWatcher()
	calls := map[banqup.Stream]*atomic.Int32{}
	for _, s := range banqup.Streams() {
		calls[s] = new(atomic.Int32)
	}
	h := notifykit.HandlerFunc(func(_ context.Context, e notifykit.Event) error {
		calls[e.(banqup.Event).Stream()].Add(1)
		return nil
	})
	c, err := banqup.NewConsumer(b.URL, queue, watch, banqup.WithHandler(h),
		banqup.WithMiddleware(notifykit.Recover(), notifykit.Dedupe(nil, time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	run(t, c)
	waitState(t, states, banqup.StateConsuming)

	p := publisher(t, b.URL)
	for _, s := range banqup.Streams() {
		pub, _, err := banquptest.NewPublishing(s, banquptest.Fixture(s))
		if err != nil {
			t.Fatal(err)
		}
		// The same message twice (a redelivery) and a re-sync with a new id.
		if err := p.PublishRaw(context.Background(), s.Exchange(), "", pub, pub); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Publish(context.Background(), s, banquptest.Fixture(s)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 30*time.Second, "handler calls", func() bool {
		sum := int32(0)
		for _, n := range calls {
			sum += n.Load()
		}
		return sum >= int32(2*len(calls))
	})
	time.Sleep(300 * time.Millisecond) // room for a wrong third call per stream
	for s, n := range calls {
		if got := n.Load(); got != 2 {
			t.Errorf("%s: handler called %d times, want 2 (dedupe by message id)", s, got)
		}
	}
}

// TestHandlerTimeout gives each handler call a deadline; a handler that
// runs into it fails like any other and ends in the error queue.
func TestHandlerTimeout(t *testing.T) {
	b := rabbit(t)
	queue := uniqueQueue(t)
	watch, states := stateWatcher()
	var attempts atomic.Int32
	c, err := banqup.NewConsumer(b.URL, queue, watch, banqup.WithHandlerTimeout(50*time.Millisecond),
		banqup.WithRetry(2, func(int) time.Duration { return time.Millisecond }))
	if err != nil {
		t.Fatal(err)
	}
	c.OnConsent(func(ctx context.Context, _ *banqup.ConsentEvent) error {
		attempts.Add(1)
		<-ctx.Done()
		return ctx.Err()
	})
	run(t, c)
	waitState(t, states, banqup.StateConsuming)
	if _, err := publisher(t, b.URL).Publish(context.Background(), banqup.StreamConsent, banquptest.Fixture(banqup.StreamConsent)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "message in error queue", func() bool { return queueDepth(t, b.URL, queue+"_error") == 1 })
	d := drain(t, b.URL, queue+"_error")[0]
	if msg, _ := (&banqup.Delivery{Headers: d.Headers}).HeaderString("MT-Fault-Message"); !strings.Contains(msg, "deadline exceeded") {
		t.Errorf("MT-Fault-Message %q", msg)
	}
	if n := attempts.Load(); n != 2 {
		t.Errorf("handler ran %d times, want 2", n)
	}
}
