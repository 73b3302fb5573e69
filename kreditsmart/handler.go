package kreditsmart

import (
	"context"
	"fmt"

	"github.com/notifykit/notifykit"
	"github.com/notifykit/notifykit/internal/backoff"
)

// typed adapts a typed notification handler to notifykit.Handler; other
// event types pass through untouched.
func typed(f func(context.Context, *Notification) error) notifykit.Handler {
	return notifykit.HandlerFunc(func(ctx context.Context, e notifykit.Event) error {
		if n, ok := e.(*Notification); ok {
			return f(ctx, n)
		}
		return nil
	})
}

// wrap applies the configured middlewares and coalescing. Coalescing is
// innermost so that Dedupe or Recover given as middleware see every message.
func wrap(h notifykit.Handler, o options) notifykit.Handler {
	if o.coalesce > 0 {
		h = notifykit.NewCoalescer(h, o.coalesce)
	}
	return notifykit.Chain(h, o.middlewares...)
}

// call runs h with the retry policy and returns a *HandlerError after the
// last failed attempt.
func call(ctx context.Context, h notifykit.Handler, n *Notification, o options) error {
	var err error
	attempt := 0
	for attempt < o.maxAttempts {
		attempt++
		if err = h.HandleEvent(ctx, n); err == nil {
			return nil
		}
		if notifykit.IsPermanent(err) || attempt == o.maxAttempts || ctx.Err() != nil {
			break
		}
		if backoff.Sleep(ctx, o.retry(attempt)) != nil {
			break
		}
	}
	return &HandlerError{Notification: n, Attempts: attempt, Err: fmt.Errorf("%w", err)}
}
