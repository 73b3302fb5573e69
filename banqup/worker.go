package banqup

import (
	"context"
	"errors"
	"fmt"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/notifykit/notifykit"
)

// process settles one delivery. Every path ends in exactly one of: ack
// after success, ack after a confirmed copy to _error/_skipped, or no ack
// at all because the session is ending (the broker then redelivers).
func (s *session) process(w work) {
	if s.ctx.Err() != nil {
		return // channel gone or shutdown timed out: leave it to redelivery
	}
	ev, err := w.ev, w.err
	if !w.decoded {
		ev, err = Decode(w.d)
	}
	if err != nil {
		dest, reason := s.c.queue+errorSuffix, reasonFault
		if errors.Is(err, ErrUnknownMessageType) || errors.Is(err, ErrUnsupportedContentType) {
			dest, reason = s.c.queue+skippedSuffix, reasonDeadLetter
		}
		s.move(&w.d, dest, faultInfo{reason: reason, err: err}, err)
		return
	}
	h := s.r.handlers[ev.Stream()]
	if h == nil {
		err := &DecodeError{MessageID: ev.ID(), ContentType: w.d.ContentType,
			MessageTypes: ev.Raw().Envelope.MessageType, Err: fmt.Errorf("%w: %s", ErrNoHandler, ev.Stream())}
		s.move(&w.d, s.c.queue+skippedSuffix, faultInfo{reason: reasonDeadLetter, err: err}, err)
		return
	}
	attempts, err := s.handle(h, ev)
	switch {
	case err == nil:
		s.ack(&w.d)
	case s.ctx.Err() != nil || (s.runCtx.Err() != nil && !notifykit.IsPermanent(err) && attempts < s.c.o.maxAttempts):
		// Cut short by shutdown or a lost channel, not a verdict on the
		// message: leave it to redelivery instead of the error queue.
		s.c.o.logger.Debug("banqup: handler interrupted, message left for redelivery", "id", ev.ID(), "err", err)
	default:
		herr := &HandlerError{MessageID: ev.ID(), Stream: ev.Stream(), Attempts: attempts, Err: err}
		s.move(&w.d, s.c.queue+errorSuffix, faultInfo{reason: reasonFault, err: err, attempts: attempts,
			inputAddr: s.c.inputAddr, messageType: ev.Stream().URN()}, herr)
	}
}

// handle runs the handler with the retry policy and returns how many times
// it ran and its last error. Retrying stops early for permanent errors,
// when the session dies, and when Run's context ends (the message is then
// redelivered later rather than held through the backoff).
func (s *session) handle(h notifykit.Handler, ev Event) (int, error) {
	o := &s.c.o
	var err error
	for attempt := 1; ; attempt++ {
		err = s.call(h, ev)
		if err == nil || notifykit.IsPermanent(err) || attempt >= o.maxAttempts {
			return attempt, err
		}
		s.c.o.logger.Debug("banqup: handler failed, retrying", "id", ev.ID(), "attempt", attempt, "err", err)
		t := time.NewTimer(o.retryBackoff(attempt))
		select {
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
			return attempt, err
		case <-s.runCtx.Done():
			t.Stop()
			return attempt, err
		}
	}
}

// call runs one handler attempt with the handler timeout and turns a panic
// into a *notifykit.PanicError so one bad message cannot kill the worker.
func (s *session) call(h notifykit.Handler, ev Event) (err error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.c.o.handlerTimeout)
	defer cancel()
	defer func() {
		if v := recover(); v != nil {
			err = &notifykit.PanicError{Value: v, Stack: stack()}
		}
	}()
	return h.HandleEvent(ctx, ev)
}

// ack hands a settled delivery to the session's acker, which acks it on
// the channel it came from.
func (s *session) ack(d *amqp.Delivery) { s.acks.ack(d.DeliveryTag) }

// move publishes a copy of d to dest, waits for the broker's confirm, and
// only then acks d. If the copy cannot be stored after a few tries the
// session is torn down, which requeues d (and everything else unacked)
// instead of dropping it.
func (s *session) move(d *amqp.Delivery, dest string, f faultInfo, report error) {
	if f.inputAddr == "" {
		f.inputAddr = s.c.inputAddr
	}
	pub := copyForQueue(d, f, s.c.host)
	log := s.c.o.logger.With("queue", s.c.queue, "id", d.MessageId, "to", dest)
	var err error
	for try := 1; try <= 3; try++ {
		err = s.conf.publish(s.ctx, dest, d.RoutingKey, pub)
		if err == nil {
			log.Warn("banqup: message moved", "reason", f.reason, "err", report)
			s.c.o.onError(report)
			s.ack(d)
			return
		}
		if s.ctx.Err() != nil || errors.Is(err, errPubClosed) {
			break
		}
		t := time.NewTimer(time.Duration(try) * 200 * time.Millisecond)
		select {
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
		}
	}
	err = fmt.Errorf("banqup: could not move message %s to %s, it stays in %s: %w", d.MessageId, dest, s.c.queue, err)
	log.Error("banqup: move failed", "err", err)
	s.c.o.onError(err)
	s.fail(err)
}
