package pgoutbox

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/notifykit/notifykit"
	"github.com/notifykit/notifykit/internal/backoff"
	"github.com/notifykit/notifykit/internal/pglisten"
)

// Worker is a dispatcher loop over an Outbox: claim, deliver, settle. Run
// one per instance, each with a distinct ID.
type Worker struct {
	ID       string
	Outbox   *Outbox
	Listener *pglisten.Listener // optional: wake on Enqueue; nil polls only
	// Deliver sends one item; nil settles it delivered, a
	// notifykit.Permanent error makes it dead, any other error retries it.
	Deliver func(ctx context.Context, it Item) error

	Lease       time.Duration                   // default 1 min
	Poll        time.Duration                   // fallback poll, default 1 s
	Batch       int                             // items per claim, default 10
	MaxAttempts int                             // then dead; default 10
	Backoff     func(attempt int) time.Duration // default 1 s .. 10 min jittered
	OnError     func(error)                     // store errors; optional
	Concurrency int                             // parallel deliveries, default Batch
}

// Run dispatches until ctx ends; deliveries in flight then are told to
// stop through their ctx and their items become due at once for another
// instance. It returns nil after a clean stop.
func (w *Worker) Run(ctx context.Context) error {
	w.defaults()
	var woken <-chan struct{}
	if w.Listener != nil {
		ch, unsubscribe := w.Listener.Subscribe(WakeKey)
		defer unsubscribe()
		woken = ch
	}
	sem := make(chan struct{}, w.Concurrency)
	var inflight sync.WaitGroup
	defer inflight.Wait()
	for ctx.Err() == nil {
		items, err := w.Outbox.Claim(ctx, w.ID, w.Batch, w.Lease)
		if err != nil && ctx.Err() == nil {
			w.OnError(err)
		}
		for _, it := range items {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				// Not started: hand it back for another instance.
				w.settle(ctx, it, ctx.Err())
				continue
			}
			inflight.Go(func() {
				defer func() { <-sem }()
				w.settle(ctx, it, w.Deliver(ctx, it))
			})
		}
		if len(items) == w.Batch {
			continue // more may be due
		}
		t := time.NewTimer(w.Poll)
		select {
		case <-woken:
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
	return nil
}

func (w *Worker) settle(ctx context.Context, it Item, derr error) {
	sctx := context.WithoutCancel(ctx)
	var err error
	switch {
	case derr == nil:
		err = w.Outbox.Complete(sctx, w.ID, it)
	case ctx.Err() != nil:
		// Stopping: hand the item back now rather than at lease expiry.
		err = w.Outbox.Fail(sctx, w.ID, it, derr, 0, false)
	default:
		dead := notifykit.IsPermanent(derr) || it.Attempt >= w.MaxAttempts
		err = w.Outbox.Fail(sctx, w.ID, it, derr, w.Backoff(it.Attempt), dead)
	}
	if err != nil && !errors.Is(err, ErrLeaseLost) {
		w.OnError(err)
	}
}

func (w *Worker) defaults() {
	if w.Lease <= 0 {
		w.Lease = time.Minute
	}
	if w.Poll <= 0 {
		w.Poll = time.Second
	}
	if w.Batch <= 0 {
		w.Batch = 10
	}
	if w.Concurrency <= 0 {
		w.Concurrency = w.Batch
	}
	if w.MaxAttempts <= 0 {
		w.MaxAttempts = 10
	}
	if w.Backoff == nil {
		w.Backoff = backoff.Exponential(time.Second, 10*time.Minute)
	}
	if w.OnError == nil {
		w.OnError = func(error) {}
	}
}
