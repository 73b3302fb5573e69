package dsgo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/notifykit/notifykit"
)

// Receiver is the consumer's webhook: an http.Handler that authenticates
// the caller, validates the notification, drops events it already handled
// and calls the handler once per event.
//
// Answers: 200 when every event was handled (or was a duplicate); 400 for a
// body that is not a valid notification or is addressed to another
// consumer; 401 when authentication fails; 403 when the authenticated
// party is not the notification's provider; 405 for methods other than
// POST; 413 for a body over the limit; 500 when the handler failed, so the
// provider retries. Error answers carry an OAuth-style JSON body.
type Receiver struct {
	ownID   string
	auth    Authenticator
	o       options
	handler notifykit.Handler
	bufs    sync.Pool // of *bytes.Buffer for request bodies
}

// NewReceiver returns a webhook receiver for the consumer party ownID,
// authenticating callers with auth (required: use AllowUnauthenticated to
// opt out deliberately).
//
// Options: WithHandler (or call OnEvent), WithMiddleware, WithMaxBodyBytes
// (default 1 MiB), WithDedupe (default: in-memory, 24 h), WithoutDedupe,
// WithLogger, WithOnError.
func NewReceiver(ownID string, auth Authenticator, opts ...Option) (*Receiver, error) {
	if ownID == "" {
		return nil, optErr("empty own party id")
	}
	if auth == nil {
		return nil, optErr("nil Authenticator (use AllowUnauthenticated to opt out)")
	}
	o, err := applyOptions(opts)
	if err != nil {
		return nil, err
	}
	if o.dedupe == nil && !o.noDedupe {
		o.dedupe = newHashDedupe(notifykit.DefaultDedupeCapacity, o.now)
	}
	r := &Receiver{ownID: ownID, auth: auth, o: o}
	r.bufs.New = func() any { return new(bytes.Buffer) }
	if o.handler != nil {
		r.setHandler(o.handler)
	}
	return r, nil
}

// WithHandler sets the handler every event goes to. NewReceiver.
func WithHandler(h notifykit.Handler) Option {
	return func(o *options) error {
		if h == nil {
			return optErr("nil handler")
		}
		o.handler = h
		return nil
	}
}

// WithMiddleware wraps the handler in middlewares (first listed is
// outermost); Recover is always applied outside them. NewReceiver.
func WithMiddleware(mws ...notifykit.Middleware) Option {
	return func(o *options) error {
		o.middleware = append(o.middleware, mws...)
		return nil
	}
}

// WithMaxBodyBytes bounds a notification body (default 1 MiB); larger
// bodies are answered 413. NewReceiver.
func WithMaxBodyBytes(n int64) Option {
	return func(o *options) error {
		if n < 1 {
			return optErr("body limit must be positive")
		}
		o.maxBody = n
		return nil
	}
}

// WithDedupe sets the store and TTL used to suppress redelivered events
// (key: provider_id, notification id, event id). A store shared between
// instances (notifykit.DedupeStore) makes several receivers behind a load
// balancer suppress duplicates together. Default: a bounded in-memory store
// and 24 h. NewReceiver.
func WithDedupe(store notifykit.DedupeStore, ttl time.Duration) Option {
	return func(o *options) error {
		if store == nil || ttl <= 0 {
			return optErr("WithDedupe needs a store and a positive TTL")
		}
		o.dedupe, o.dedupeTTL, o.noDedupe = store, ttl, false
		return nil
	}
}

// WithoutDedupe turns deduplication off: every delivery reaches the
// handler. NewReceiver.
func WithoutDedupe() Option {
	return func(o *options) error {
		o.dedupe, o.noDedupe = nil, true
		return nil
	}
}

// WithEnqueue switches the receiver to asynchronous mode: a verified
// notification is handed to enqueue (which must store it durably, e.g. in
// the application's database or a message queue) and answered 200 as soon
// as enqueue returns nil, 500 otherwise; the handler is not called. The
// application's worker later passes each stored notification to
// Receiver.Deliver, which dedupes and calls the handler. Use it when
// handling takes longer than a provider waits (DSGO providers built with
// this SDK wait 15 s). NewReceiver.
func WithEnqueue(enqueue func(ctx context.Context, n *Notification) error) Option {
	return func(o *options) error {
		if enqueue == nil {
			return optErr("nil enqueue")
		}
		o.enqueue = enqueue
		return nil
	}
}

// OnEvent sets the handler to a typed function. Call it before serving.
func (r *Receiver) OnEvent(f func(ctx context.Context, e *Event) error) {
	r.setHandler(notifykit.HandlerFunc(func(ctx context.Context, e notifykit.Event) error {
		de, ok := e.(*Event)
		if !ok {
			return notifykit.Permanent(fmt.Errorf("dsgo: OnEvent got %T, want *dsgo.Event (a middleware replaced it)", e))
		}
		return f(ctx, de)
	}))
}

func (r *Receiver) setHandler(h notifykit.Handler) {
	r.handler = notifykit.Chain(h, append([]notifykit.Middleware{notifykit.Recover()}, r.o.middleware...)...)
}

// Verify authenticates req and decodes body into a validated notification
// addressed to this consumer, without calling the handler. It is the pure
// part of ServeHTTP, for users who run their own HTTP stack. Errors match
// ErrUnauthorized, ErrForbidden, ErrDecode or ErrInvalid.
func (r *Receiver) Verify(req *http.Request, body []byte) (*Notification, error) {
	party, err := r.auth.Authenticate(req)
	if err != nil {
		return nil, err
	}
	return r.check(party, body)
}

func (r *Receiver) check(party string, body []byte) (*Notification, error) {
	n, err := DecodeNotification(body)
	if err != nil {
		return nil, err
	}
	if n.ConsumerID != r.ownID {
		return nil, fmt.Errorf("%w: consumer_id %q is not this party", ErrInvalid, n.ConsumerID)
	}
	if party != "" && party != n.ProviderID {
		return nil, fmt.Errorf("%w: caller %q sent a notification for provider %q", ErrForbidden, party, n.ProviderID)
	}
	return n, nil
}

// ServeHTTP implements the webhook.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		WriteOAuthError(w, http.StatusMethodNotAllowed, "invalid_request", "notifications must be POSTed")
		return
	}
	party, err := r.auth.Authenticate(req)
	if err != nil {
		r.fail(w, err)
		return
	}
	buf := r.bufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 64<<10 { // do not keep rare huge bodies alive
			buf.Reset()
			r.bufs.Put(buf)
		}
	}()
	// The body is only read here; decoding copies what it keeps, so the
	// buffer is reused for the next request.
	_, err = buf.ReadFrom(http.MaxBytesReader(w, req.Body, r.o.maxBody))
	body := buf.Bytes()
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			WriteOAuthError(w, http.StatusRequestEntityTooLarge, "invalid_request", "notification too large")
			return
		}
		WriteOAuthError(w, http.StatusBadRequest, "invalid_request", "cannot read body")
		return
	}
	n, err := r.check(party, body)
	if err != nil {
		r.fail(w, err)
		return
	}
	if r.o.enqueue != nil {
		if err := r.o.enqueue(req.Context(), n); err != nil {
			err = fmt.Errorf("dsgo: enqueue notification %s: %w", n.ID, err)
			r.o.logger.Error("dsgo: enqueue failed", "notification", n.ID, "err", err)
			r.o.onError(err)
			WriteOAuthError(w, http.StatusInternalServerError, "server_error", "notification not stored; retry later")
			return
		}
		w.WriteHeader(http.StatusOK)
		return
	}
	if err := r.Deliver(req.Context(), n); err != nil {
		r.o.logger.Error("dsgo: webhook handler failed", "notification", n.ID, "provider", n.ProviderID, "err", err)
		r.o.onError(err)
		WriteOAuthError(w, http.StatusInternalServerError, "server_error", "notification not processed; retry later")
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (r *Receiver) fail(w http.ResponseWriter, err error) {
	r.o.logger.Info("dsgo: webhook request refused", "err", err)
	switch {
	case errors.Is(err, ErrForbidden):
		WriteOAuthError(w, http.StatusForbidden, "access_denied", "caller may not send this notification")
	case errors.Is(err, ErrUnauthorized):
		WriteOAuthError(w, http.StatusUnauthorized, "invalid_token", "authentication required")
	case errors.Is(err, ErrDecode), errors.Is(err, ErrInvalid):
		WriteOAuthError(w, http.StatusBadRequest, "invalid_request", err.Error())
	default:
		// An authenticator failing for another reason (its registry is
		// down, say) is not the caller's fault: let the provider retry.
		r.o.onError(err)
		WriteOAuthError(w, http.StatusInternalServerError, "server_error", "")
	}
}

// Deliver hands a verified notification's events to the handler, skipping
// events already handled (dedupe), and returns the first handler error.
// Events handled before a failure stay recorded, so the provider's retry
// only redoes the rest.
func (r *Receiver) Deliver(ctx context.Context, n *Notification) error {
	if r.handler == nil {
		return errors.New("dsgo: receiver has no handler (WithHandler or OnEvent)")
	}
	for _, e := range n.Events {
		if err := r.deliverOne(ctx, n, e); err != nil {
			return fmt.Errorf("dsgo: event %s of notification %s: %w", e.EventID, n.ID, err)
		}
	}
	return nil
}

func (r *Receiver) deliverOne(ctx context.Context, n *Notification, e *Event) error {
	store := r.o.dedupe
	if store == nil {
		return r.handler.HandleEvent(ctx, e)
	}
	key := n.ProviderID + "\x00" + n.ID + "\x00" + e.EventID
	lease := min(notifykit.DefaultDedupeLease, r.o.dedupeTTL)
	fresh, err := store.Claim(ctx, key, lease)
	if err != nil {
		// Fail open, like notifykit.Dedupe: a duplicate is safe under
		// at-least-once, a refused delivery is not progress.
		r.o.onError(fmt.Errorf("dsgo: dedupe claim: %w", err))
		return r.handler.HandleEvent(ctx, e)
	}
	if !fresh {
		r.o.logger.Debug("dsgo: duplicate event skipped", "notification", n.ID, "event", e.EventID)
		return nil
	}
	herr := r.handler.HandleEvent(ctx, e)
	sctx := context.WithoutCancel(ctx)
	if herr != nil {
		if err := store.Release(sctx, key); err != nil {
			r.o.onError(fmt.Errorf("dsgo: dedupe release: %w", err))
		}
		return herr
	}
	if err := store.Commit(sctx, key, r.o.dedupeTTL); err != nil {
		r.o.onError(fmt.Errorf("dsgo: dedupe commit: %w", err))
	}
	return nil
}
