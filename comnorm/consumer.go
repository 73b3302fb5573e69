package comnorm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/notifykit/notifykit"
	"github.com/notifykit/notifykit/internal/backoff"
)

// ErrMaxAttempts marks a message whose handler failed the maximum number of
// times (see WithRetry); it is reported through OnError and handed to the
// dead-letter callback.
var ErrMaxAttempts = errors.New("comnorm: message failed too often")

// MessageError reports a problem with one message: a failed handler call, a
// message that reached the attempt limit (matches ErrMaxAttempts), a failed
// dead-letter callback or a delete that could not be completed.
type MessageError struct {
	QueueID   string
	MessageID string
	Attempt   int
	Op        string // "handle", "dead-letter" or "delete"
	Err       error
}

// Error describes the failure.
func (e *MessageError) Error() string {
	return fmt.Sprintf("comnorm: %s message %s (attempt %d): %v", e.Op, e.MessageID, e.Attempt, e.Err)
}

// Unwrap returns the underlying error.
func (e *MessageError) Unwrap() error { return e.Err }

// Consumer long-polls one queue, hands each message to the handler and
// deletes it once the handler returned nil.
//
// Delivery is at least once: a message is deleted only after success, so a
// crash between handling and deleting redelivers it; handlers should be
// idempotent (notifykit.Dedupe helps). ComNorm's peek does not lock or hide
// messages, so run exactly one Consumer per queue; within one Consumer an
// in-flight set ensures no message is handled twice at the same time.
type Consumer struct {
	client  *Client
	queueID string
	o       *options

	mu      sync.Mutex
	typed   func(context.Context, *Event) error
	running bool
}

// NewConsumer returns a consumer of queueID. Options: WithHandler or
// OnMessage (one is required), WithMiddleware, WithBatch, WithPollTimeout,
// WithConcurrency, WithRetry, WithDeadLetter, WithShutdownTimeout,
// WithMinPollInterval, WithErrorBackoff, WithLogger, WithOnError.
func NewConsumer(c *Client, queueID string, opts ...Option) (*Consumer, error) {
	if c == nil || queueID == "" {
		return nil, errors.New("comnorm: NewConsumer needs a client and a queue id")
	}
	o, err := applyOptions(forConsumer, opts)
	if err != nil {
		return nil, err
	}
	if o.pollTimeout > MaxPollTimeout {
		return nil, fmt.Errorf("comnorm: poll timeout above %v", MaxPollTimeout)
	}
	if !o.retrySet {
		o.maxAttempts = 5
	}
	if o.retryBackoff == nil {
		o.retryBackoff = backoff.Exponential(time.Second, time.Minute)
	}
	if o.errorBackoff == nil {
		o.errorBackoff = backoff.Exponential(time.Second, time.Minute)
	}
	return &Consumer{client: c, queueID: queueID, o: o}, nil
}

// OnMessage registers the typed handler; it replaces WithHandler. Call it
// before Run.
func (c *Consumer) OnMessage(f func(ctx context.Context, e *Event) error) {
	c.mu.Lock()
	c.typed = f
	c.mu.Unlock()
}

// stateTTL is how long retry state is kept for a message no peek returns.
const stateTTL = 15 * time.Minute

// msgState is what the consumer remembers about a message between peeks.
// It lives in memory only: a restarted consumer starts counting again.
type msgState struct {
	received  time.Time
	lastSeen  time.Time
	attempts  int
	notBefore time.Time
	lastErr   error
}

// run is the state of one Run call.
type run struct {
	c       *Consumer
	handler notifykit.Handler
	hctx    context.Context // handlers and deletes; outlives Run's ctx until the shutdown timeout

	mu       sync.Mutex
	inFlight map[string]struct{}
	state    map[string]*msgState
	// deleted remembers when each recent delete completed: a peek that was
	// already under way may still return the message, and handling it again
	// would be a needless duplicate.
	deleted map[string]time.Time
	freed   chan struct{} // a message left the in-flight set

	work    chan *Event
	deletes chan *Event
}

// Run consumes until ctx ends, then stops polling, lets running handlers
// finish and flushes pending deletes (bounded by WithShutdownTimeout) and
// returns nil. Transient failures (network, 5xx, 429) are reported to
// OnError and retried with backoff; Run returns early only for errors that
// retrying cannot fix: a rejected partner key (ErrUnauthorized) or a queue
// that does not exist (ErrQueueNotFound), also after draining.
func (c *Consumer) Run(ctx context.Context) error {
	c.mu.Lock()
	if c.running {
		c.mu.Unlock()
		return errors.New("comnorm: Consumer.Run called twice")
	}
	c.running = true
	typed := c.typed
	c.mu.Unlock()
	defer func() { c.mu.Lock(); c.running = false; c.mu.Unlock() }()

	h := c.o.handler
	if typed != nil {
		h = notifykit.HandlerFunc(func(ctx context.Context, e notifykit.Event) error {
			ev, ok := e.(*Event)
			if !ok {
				return notifykit.Permanent(fmt.Errorf("comnorm: handler got %T, want *comnorm.Event", e))
			}
			return typed(ctx, ev)
		})
	}
	if h == nil {
		return errors.New("comnorm: Consumer has no handler (use OnMessage or WithHandler)")
	}
	hctx, cancelHandlers := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHandlers()
	r := &run{
		c:        c,
		handler:  notifykit.Chain(h, c.o.middlewares...),
		hctx:     hctx,
		inFlight: make(map[string]struct{}),
		state:    make(map[string]*msgState),
		deleted:  make(map[string]time.Time),
		freed:    make(chan struct{}, 1),
		work:     make(chan *Event),
		deletes:  make(chan *Event, c.o.count+c.o.concurrency),
	}
	var workers, deleters sync.WaitGroup
	for range c.o.concurrency {
		workers.Go(r.worker)
	}
	// Deletes are pure I/O and a durable server answers each only after
	// an fsync; running up to a batch of them at once lets the server group
	// them into few commits, while handlers stay at the chosen concurrency.
	for range max(c.o.concurrency, min(max(c.o.count, 4), 64)) {
		deleters.Go(r.deleter)
	}

	runErr := r.poll(ctx)

	// Graceful stop: no new peeks (poll returned), running handlers finish,
	// pending deletes are flushed, all within the shutdown timeout.
	close(r.work)
	timer := time.AfterFunc(c.o.shutdownTimeout, cancelHandlers)
	defer timer.Stop()
	workers.Wait()
	close(r.deletes)
	deleters.Wait()
	if !timer.Stop() {
		c.report(fmt.Errorf("comnorm: shutdown timeout %v reached; unfinished messages stay in the queue", c.o.shutdownTimeout))
	}
	return runErr
}

func (c *Consumer) report(err error) {
	c.o.logger.Warn("comnorm consumer", slog.String("queue", c.queueID), slog.Any("err", err))
	c.o.onError(err)
}

// poll is the peek loop; it returns nil when ctx ends or a permanent error.
func (r *run) poll(ctx context.Context) error {
	c := r.c
	lowWater := c.o.count / 2
	failures := 0
	for ctx.Err() == nil {
		// Do not peek again while most of the last batch is still being
		// worked on: the same head messages would only come back.
		if !r.waitInFlight(ctx, lowWater) {
			return nil
		}
		started := time.Now()
		msgs, err := c.client.Peek(ctx, c.queueID, PeekOptions{Count: c.o.count, Timeout: c.o.pollTimeout})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrQueueNotFound) {
				return err
			}
			failures++
			c.report(err)
			wait := c.o.errorBackoff(failures)
			var apiErr *APIError
			if errors.As(err, &apiErr) && apiErr.RetryAfter > wait {
				wait = apiErr.RetryAfter
			}
			if backoff.Sleep(ctx, wait) != nil {
				return nil
			}
			continue
		}
		failures = 0
		dispatched, earliest, ok := r.dispatch(ctx, msgs, started)
		if !ok {
			return nil
		}
		switch {
		case dispatched > 0:
		case len(msgs) == 0:
			// Nothing there. A long poll already waited; a server that
			// answered at once must not turn this into a busy loop.
			if backoff.Sleep(ctx, c.o.minPollInterval-time.Since(started)) != nil {
				return nil
			}
		default:
			// Everything peeked is in flight or waiting for its retry time:
			// wait until one of those changes.
			if !r.waitChange(ctx, earliest) {
				return nil
			}
		}
	}
	return nil
}

func (r *run) inFlightLen() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.inFlight)
}

// waitInFlight waits until at most n messages are in flight. It returns
// false when ctx ended.
func (r *run) waitInFlight(ctx context.Context, n int) bool {
	for r.inFlightLen() > n {
		select {
		case <-r.freed:
		case <-ctx.Done():
			return false
		}
	}
	return true
}

// waitChange waits until a message leaves the in-flight set (possibly one
// that left since the last wait) or the time until (if non-zero) has come.
// It returns false when ctx ended.
func (r *run) waitChange(ctx context.Context, until time.Time) bool {
	var timeout <-chan time.Time
	if !until.IsZero() {
		t := time.NewTimer(time.Until(until))
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-r.freed:
	case <-timeout:
	case <-ctx.Done():
		return false
	}
	return true
}

// dispatch hands the peeked messages that are neither in flight nor waiting
// for a retry to the workers, in queue order. It returns how many it handed
// out and the earliest retry time among those it skipped for backoff.
//
// peekStarted is when the peek was sent: messages whose delete completed
// after that may be stale copies and are skipped; older deletes are
// forgotten, since the server had them before this peek.
func (r *run) dispatch(ctx context.Context, msgs []Message, peekStarted time.Time) (int, time.Time, bool) {
	now := time.Now()
	n := 0
	var earliest time.Time
	defer func() {
		r.mu.Lock()
		for id, at := range r.deleted {
			if at.Before(peekStarted) {
				delete(r.deleted, id)
			}
		}
		// Forget messages that left the queue some other way (deleted by
		// someone else, queue recreated), so the map stays bounded.
		for id, st := range r.state {
			if _, busy := r.inFlight[id]; !busy && now.Sub(st.lastSeen) > stateTTL {
				delete(r.state, id)
			}
		}
		r.mu.Unlock()
	}()
	for _, m := range msgs {
		r.mu.Lock()
		if _, busy := r.inFlight[m.ID]; busy {
			r.mu.Unlock()
			continue
		}
		if at, ok := r.deleted[m.ID]; ok && !at.Before(peekStarted) {
			r.mu.Unlock()
			continue
		}
		st := r.state[m.ID]
		if st == nil {
			st = &msgState{received: now}
			r.state[m.ID] = st
		}
		st.lastSeen = now
		if st.notBefore.After(now) {
			if earliest.IsZero() || st.notBefore.Before(earliest) {
				earliest = st.notBefore
			}
			r.mu.Unlock()
			continue
		}
		r.inFlight[m.ID] = struct{}{}
		ev := &Event{QueueID: r.c.queueID, Message: m, Received: st.received, Attempt: st.attempts + 1}
		r.mu.Unlock()
		select {
		case r.work <- ev:
			n++
		case <-ctx.Done():
			r.release(m.ID)
			return n, earliest, false
		}
	}
	return n, earliest, true
}

// release takes a message out of the in-flight set and wakes the poller.
func (r *run) release(id string) {
	r.mu.Lock()
	delete(r.inFlight, id)
	r.mu.Unlock()
	select {
	case r.freed <- struct{}{}:
	default:
	}
}

// worker handles messages until the work channel is closed.
func (r *run) worker() {
	for ev := range r.work {
		r.handle(ev)
	}
}

func (r *run) handle(ev *Event) {
	c := r.c
	r.mu.Lock()
	st := r.state[ev.Message.ID]
	exhausted := st.attempts >= c.o.maxAttempts
	lastErr := st.lastErr
	r.mu.Unlock()

	if !exhausted {
		err := r.handler.HandleEvent(r.hctx, ev)
		if err == nil {
			r.deletes <- ev
			return
		}
		r.mu.Lock()
		st.attempts++
		st.lastErr = err
		exhausted = st.attempts >= c.o.maxAttempts || notifykit.IsPermanent(err)
		if notifykit.IsPermanent(err) {
			st.attempts = max(st.attempts, c.o.maxAttempts)
		}
		r.mu.Unlock()
		c.report(&MessageError{QueueID: c.queueID, MessageID: ev.Message.ID, Attempt: ev.Attempt, Op: "handle", Err: err})
		lastErr = err
	}
	if exhausted {
		if r.deadLetter(ev, lastErr) {
			r.deletes <- ev
			return
		}
	}
	r.mu.Lock()
	st.notBefore = time.Now().Add(c.o.retryBackoff(st.attempts))
	r.mu.Unlock()
	r.release(ev.Message.ID)
}

// deadLetter hands an exhausted message to the callback; true means it may
// be deleted.
func (r *run) deadLetter(ev *Event, lastErr error) bool {
	c := r.c
	err := fmt.Errorf("%w: %w", ErrMaxAttempts, lastErr)
	if c.o.deadLetter == nil {
		c.report(&MessageError{QueueID: c.queueID, MessageID: ev.Message.ID, Attempt: ev.Attempt, Op: "dead-letter", Err: fmt.Errorf("%w; no dead-letter callback, message kept in the queue", err)})
		return false
	}
	if derr := c.o.deadLetter(r.hctx, ev, err); derr != nil {
		c.report(&MessageError{QueueID: c.queueID, MessageID: ev.Message.ID, Attempt: ev.Attempt, Op: "dead-letter", Err: derr})
		return false
	}
	return true
}

// deleter deletes handled messages, retrying until it succeeds or the
// shutdown timeout passes: a handled message that stays in the queue would
// be handled again.
func (r *run) deleter() {
	c := r.c
	for ev := range r.deletes {
		for attempt := 1; ; attempt++ {
			err := c.client.DeleteMessage(r.hctx, c.queueID, ev.Message.ID)
			if err == nil {
				r.mu.Lock()
				delete(r.state, ev.Message.ID)
				r.deleted[ev.Message.ID] = time.Now()
				r.mu.Unlock()
				break
			}
			c.report(&MessageError{QueueID: c.queueID, MessageID: ev.Message.ID, Attempt: ev.Attempt, Op: "delete", Err: err})
			if backoff.Sleep(r.hctx, c.o.errorBackoff(attempt)) != nil {
				break
			}
		}
		r.release(ev.Message.ID)
	}
}
