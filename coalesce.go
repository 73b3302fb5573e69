package notifykit

import (
	"context"
	"sync"
	"time"
)

// Coalesce returns a middleware that merges events with the same Subject
// arriving within window into one handler call with the latest of them
// (trailing edge). Events with an empty Subject pass straight through.
//
// Each call blocks until the handler call that covers its event has
// returned, and returns that call's error. A transport therefore settles
// every merged delivery only after the work was done: nothing is acked on
// the strength of a promise, so nothing is lost when the process dies in
// the window. The price is that a transport must run handlers concurrently
// (prefetch, worker pools) for events to meet in a window at all.
//
// Use NewCoalescer instead when shutdown code should flush pending events
// without waiting for their windows to close.
func Coalesce(window time.Duration) Middleware {
	return func(next Handler) Handler { return NewCoalescer(next, window) }
}

// Coalescer is the Handler behind Coalesce; see there.
type Coalescer struct {
	next   Handler
	window time.Duration

	mu      sync.Mutex
	pending map[string]*coalesced
	running sync.WaitGroup
}

type coalesced struct {
	latest Event
	ctx    context.Context // the latest caller's values, without its cancellation
	timer  *time.Timer
	done   chan struct{}
	err    error
}

// NewCoalescer returns a Coalescer that calls next at most once per Subject
// per window with the latest event.
func NewCoalescer(next Handler, window time.Duration) *Coalescer {
	return &Coalescer{next: next, window: window, pending: make(map[string]*coalesced)}
}

// HandleEvent merges e into the pending call for its Subject and waits for
// that call's result. When ctx ends first it returns ctx.Err(); the event is
// still handled when the window closes, and the transport's redelivery of
// the unsettled original is handled again (at-least-once).
func (c *Coalescer) HandleEvent(ctx context.Context, e Event) error {
	key := e.Subject()
	if key == "" || c.window <= 0 {
		return c.next.HandleEvent(ctx, e)
	}
	c.mu.Lock()
	b, ok := c.pending[key]
	if ok {
		b.latest, b.ctx = e, context.WithoutCancel(ctx)
	} else {
		b = &coalesced{latest: e, ctx: context.WithoutCancel(ctx), done: make(chan struct{})}
		c.pending[key] = b
		c.running.Add(1)
		b.timer = time.AfterFunc(c.window, func() { c.fire(key, b) })
	}
	c.mu.Unlock()

	select {
	case <-b.done:
		return b.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fire runs the merged call. It runs once per batch: from its timer, or from
// Flush after Flush stopped the timer.
func (c *Coalescer) fire(key string, b *coalesced) {
	defer c.running.Done()
	c.mu.Lock()
	if c.pending[key] == b {
		delete(c.pending, key)
	}
	e, ctx := b.latest, b.ctx
	c.mu.Unlock()
	b.err = c.next.HandleEvent(ctx, e)
	close(b.done)
}

// Flush runs every pending merged call now instead of at the end of its
// window, and waits until all running calls have returned or ctx ends.
// Shutdown code calls it so that no event waits out its window.
func (c *Coalescer) Flush(ctx context.Context) error {
	c.mu.Lock()
	for key, b := range c.pending {
		if b.timer.Stop() {
			go c.fire(key, b)
		}
	}
	c.mu.Unlock()

	idle := make(chan struct{})
	go func() { c.running.Wait(); close(idle) }()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
