package comnorm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// MaxMessageSize is the vendor's limit for a posted message: 16,384
// characters. The client enforces it on bytes, which satisfies both
// readings of "characters" (a byte count is never smaller than the number of
// Unicode characters); the server in comnormserver counts Unicode characters.
const MaxMessageSize = 16384

// Queue is what Create Queue returns. Hand NotificationURL and
// NotificationSecret to the senders; keep ID for peeking and deleting.
type Queue struct {
	ID                 string `json:"queueId"`
	NotificationURL    string `json:"notificationURL"`
	NotificationSecret string `json:"notificationSecret"`
}

// String omits the secret so that a logged Queue does not leak it.
func (q Queue) String() string {
	return fmt.Sprintf("comnorm.Queue{ID:%q NotificationURL:%q NotificationSecret:[redacted]}", q.ID, q.NotificationURL)
}

// Message is one queued message as Peek returns it. Content holds the posted
// JSON object byte for byte.
type Message struct {
	ID      string          `json:"messageId"`
	Content json.RawMessage `json:"content"`
}

// Decode unmarshals the message content into v.
func (m Message) Decode(v any) error {
	if len(m.Content) == 0 {
		return fmt.Errorf("comnorm: message %q has no content", m.ID)
	}
	return json.Unmarshal(m.Content, v)
}

// PeekOptions controls one Peek request. Zero values are omitted from the
// query, which gives the server's defaults (one message, no waiting).
type PeekOptions struct {
	// Count is the maximum number of messages to return.
	Count int
	// Timeout makes the server hold the request until a message arrives or
	// the timeout passes. It is sent in whole seconds, rounded up.
	Timeout time.Duration
}

// Event is a queue message delivered by a Consumer. It implements
// notifykit.Event and notifykit.EventData.
type Event struct {
	// QueueID is the queue the message was peeked from.
	QueueID string
	// Message is the message as peeked.
	Message Message
	// Received is when this consumer first saw the message. ComNorm does not
	// send a timestamp, so this is the closest to "when it happened".
	Received time.Time
	// Attempt counts handler calls for this message in this consumer,
	// starting at 1.
	Attempt int
}

// ID returns the queue's messageId, stable across redeliveries.
func (e *Event) ID() string { return e.Message.ID }

// Source returns "comnorm".
func (e *Event) Source() string { return "comnorm" }

// Type returns "comnorm.message.received".
func (e *Event) Type() string { return "comnorm.message.received" }

// Subject returns the queue message id, as the shared event model prescribes
// for ComNorm.
func (e *Event) Subject() string { return e.Message.ID }

// Time returns Received.
func (e *Event) Time() time.Time { return e.Received }

// EventData returns the raw JSON content for CloudEvents rendering.
func (e *Event) EventData() (string, []byte) { return "application/json", e.Message.Content }

// Decode unmarshals the message content into v.
func (e *Event) Decode(v any) error { return e.Message.Decode(v) }

// CheckBody reports whether body may be posted: a valid JSON object of at
// most MaxMessageSize bytes. The error matches ErrNotJSONObject or
// ErrMessageTooLarge.
func CheckBody(body []byte) error {
	if len(body) > MaxMessageSize {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrMessageTooLarge, len(body), MaxMessageSize)
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return fmt.Errorf("%w: body does not start with '{'", ErrNotJSONObject)
	}
	if !json.Valid(body) {
		return fmt.Errorf("%w: invalid JSON", ErrNotJSONObject)
	}
	return nil
}
