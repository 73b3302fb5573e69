package notifykit

import (
	"context"
	"time"
)

// Event is one notification from any of the four channels.
//
// Every protocol package's concrete event types implement Event, so one
// application can route KreditSmart, banqUP, ComNorm and DSGO notifications
// through one pipeline of middlewares and handlers.
type Event interface {
	// ID is stable for one notification at its source (a MassTransit
	// messageId, a ComNorm messageId, a DSGO notification id, a digest of a
	// KreditSmart payload). Redeliveries of the same notification keep the
	// same ID, which is what Dedupe relies on.
	ID() string
	// Source names the channel: "kreditsmart", "banqup", "comnorm" or "dsgo".
	Source() string
	// Type is a dotted event type such as "banqup.transaction.updated" or
	// "kreditsmart.vorgang.changed".
	Type() string
	// Subject is the business key the event is about: a Vorgangsnummer, an
	// account or consent id, a queue message id, a subscription id.
	Subject() string
	// Time is when the source says the change happened or was sent; the zero
	// time when the source does not say.
	Time() time.Time
}

// Handler processes one event.
//
// Returning nil settles the delivery as a success (the transport acks,
// deletes or answers 200). Returning an error means "not processed": the
// transport retries, keeps the message or answers 5xx. Wrap the error with
// Permanent to skip retries and send the delivery straight to its error
// destination.
type Handler interface {
	HandleEvent(ctx context.Context, e Event) error
}

// HandlerFunc adapts an ordinary function to Handler.
type HandlerFunc func(ctx context.Context, e Event) error

// HandleEvent calls f(ctx, e).
func (f HandlerFunc) HandleEvent(ctx context.Context, e Event) error { return f(ctx, e) }

// Middleware wraps a Handler with behaviour such as deduplication or panic
// recovery.
type Middleware func(Handler) Handler

// Chain wraps h in the middlewares so that the first one listed is the
// outermost: Chain(h, Recover(), Dedupe(nil, time.Hour)) recovers panics
// raised anywhere below it, including in Dedupe.
func Chain(h Handler, mws ...Middleware) Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}
