package banqup

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors; match them with errors.Is.
var (
	// ErrMalformed: the body is not what its content type promises (empty,
	// invalid UTF-8, broken JSON, a field of the wrong JSON type). Such
	// deliveries go to the error queue.
	ErrMalformed = errors.New("banqup: malformed message")
	// ErrUnknownMessageType: neither a messageType URN nor the delivery's
	// exchange names one of the five banqUP streams. Such deliveries go to
	// the skipped queue.
	ErrUnknownMessageType = errors.New("banqup: unknown message type")
	// ErrUnsupportedContentType: a MassTransit serializer this package does
	// not read (BSON, XML, encrypted, MessagePack). Such deliveries go to the
	// skipped queue.
	ErrUnsupportedContentType = errors.New("banqup: unsupported content type")
	// ErrNoHandler: the message decoded but nothing is registered for its
	// stream. Such deliveries go to the skipped queue.
	ErrNoHandler = errors.New("banqup: no handler for message type")
	// ErrInvalid is returned by the messages' Validate methods when a
	// required field is missing.
	ErrInvalid = errors.New("banqup: required field missing")
	// ErrTopology: RabbitMQ refused the queue/exchange layout (a declaration
	// with different settings answers 406 PRECONDITION_FAILED, a passive
	// declaration of something missing answers 404). Run returns it.
	ErrTopology = errors.New("banqup: topology rejected by broker")
	// ErrAccessRefused: the broker refused the credentials or the vhost.
	// Run returns it.
	ErrAccessRefused = errors.New("banqup: access refused by broker")
)

// DecodeError describes a delivery that could not be turned into an event.
// It matches ErrMalformed, ErrUnknownMessageType or
// ErrUnsupportedContentType through errors.Is.
type DecodeError struct {
	// MessageID is the MassTransit message id when it could be read.
	MessageID string
	// ContentType is the delivery's AMQP content type.
	ContentType string
	// MessageTypes are the URNs the message claimed, if any.
	MessageTypes []string
	// Err is the cause.
	Err error
}

// Error describes the failure without quoting the body.
func (e *DecodeError) Error() string {
	var b strings.Builder
	b.WriteString("banqup: decode")
	if e.MessageID != "" {
		fmt.Fprintf(&b, " message %s", e.MessageID)
	}
	if len(e.MessageTypes) > 0 {
		fmt.Fprintf(&b, " (%s)", truncate(strings.Join(e.MessageTypes, ";"), 200))
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

// Unwrap returns the cause.
func (e *DecodeError) Unwrap() error { return e.Err }

// ValidationError lists the required fields a message lacks. It matches
// ErrInvalid.
type ValidationError struct {
	// Fields are JSON paths such as "data.iban".
	Fields []string
}

// Error lists the missing fields.
func (e *ValidationError) Error() string {
	return "banqup: required field missing: " + strings.Join(e.Fields, ", ")
}

// Is matches ErrInvalid.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// HandlerError records a handler failure that was routed to the error
// queue; the consumer passes it to the OnError callback.
type HandlerError struct {
	// MessageID and Stream identify the message.
	MessageID string
	Stream    Stream
	// Attempts is how many times the handler ran.
	Attempts int
	// Err is the handler's last error.
	Err error
}

// Error names the message and the handler's error.
func (e *HandlerError) Error() string {
	return fmt.Sprintf("banqup: handler failed for %s message %s after %d attempt(s), moved to error queue: %v",
		e.Stream, e.MessageID, e.Attempts, e.Err)
}

// Unwrap returns the handler's error.
func (e *HandlerError) Unwrap() error { return e.Err }
