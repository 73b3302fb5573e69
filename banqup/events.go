package banqup

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/notifykit/notifykit"
)

// Event is implemented by the five event types. Besides notifykit.Event it
// gives the stream and the transport details.
type Event interface {
	notifykit.Event
	notifykit.EventData
	// Stream is the stream the message came from.
	Stream() Stream
	// Raw gives the envelope, AMQP headers and raw body.
	Raw() *Delivery
	// orderKey is the entity whose messages WithOrdering keeps in order.
	orderKey() string
}

const source = "banqup"

// AccountEvent is an AccountMessage with its delivery.
//
// ID is the MassTransit messageId (each synchronisation has a new one),
// Subject the account id, Type "banqup.account.created" or
// "banqup.account.updated".
type AccountEvent struct {
	Message  AccountMessage
	Delivery *Delivery
}

// TransactionEvent is a TransactionMessage with its delivery.
//
// Subject is the transaction id; Type is "banqup.transaction.created" or
// "banqup.transaction.updated". WithOrdering orders transactions by
// account.
type TransactionEvent struct {
	Message  TransactionMessage
	Delivery *Delivery
}

// SessionFinishedEvent is a SessionFinishedMessage with its delivery.
//
// Subject is the account id; Type is "banqup.session.finished".
type SessionFinishedEvent struct {
	Message  SessionFinishedMessage
	Delivery *Delivery
}

// ConsentEvent is a ConsentMessage with its delivery.
//
// Subject is the consent id; Type is "banqup.consent.created", ".updated" or
// ".deleted".
type ConsentEvent struct {
	Message  ConsentMessage
	Delivery *Delivery
}

// AspspCallEvent is an AspspCall with its delivery.
//
// Subject is the call's execution id; Type is "banqup.aspspcall.completed".
type AspspCallEvent struct {
	Message  AspspCall
	Delivery *Delivery
}

// messageID is the MassTransit messageId, or a digest of the body when a
// publisher sent none, so that Dedupe still recognises redeliveries.
func messageID(d *Delivery) string {
	if d.Envelope.MessageID != "" {
		return d.Envelope.MessageID
	}
	sum := sha256.Sum256(d.Body)
	return "sha256:" + hex.EncodeToString(sum[:16])
}

func eventTime(t Time, d *Delivery) time.Time {
	if !t.IsZero() {
		return t.Time
	}
	return d.Envelope.SentTime.Time
}

// typeFor names the event type after the operation; unknown or missing
// operations become "changed".
func typeFor(noun string, op Operation) string {
	switch op {
	case OperationCreated, OperationUpdated, OperationDeleted:
		return "banqup." + noun + "." + string(op)
	}
	return "banqup." + noun + ".changed"
}

// ID implements notifykit.Event.
func (e *AccountEvent) ID() string { return messageID(e.Delivery) }

// Source implements notifykit.Event.
func (e *AccountEvent) Source() string { return source }

// Type implements notifykit.Event.
func (e *AccountEvent) Type() string { return typeFor("account", e.Message.Meta.Operation) }

// Subject implements notifykit.Event.
func (e *AccountEvent) Subject() string { return strconv.FormatInt(e.Message.Data.ID, 10) }

// Time implements notifykit.Event: meta.timestamp, else the envelope's
// sentTime.
func (e *AccountEvent) Time() time.Time { return eventTime(e.Message.Meta.Timestamp, e.Delivery) }

// EventData implements notifykit.EventData with the raw JSON payload.
func (e *AccountEvent) EventData() (string, []byte) {
	return ContentTypeRawJSON, e.Delivery.Envelope.Message
}

// Stream implements Event.
func (e *AccountEvent) Stream() Stream { return StreamAccount }

// Raw implements Event.
func (e *AccountEvent) Raw() *Delivery { return e.Delivery }

func (e *AccountEvent) orderKey() string { return "account:" + e.Subject() }

// ID implements notifykit.Event.
func (e *TransactionEvent) ID() string { return messageID(e.Delivery) }

// Source implements notifykit.Event.
func (e *TransactionEvent) Source() string { return source }

// Type implements notifykit.Event.
func (e *TransactionEvent) Type() string { return typeFor("transaction", e.Message.Meta.Operation) }

// Subject implements notifykit.Event.
func (e *TransactionEvent) Subject() string { return e.Message.Data.ID }

// Time implements notifykit.Event.
func (e *TransactionEvent) Time() time.Time { return eventTime(e.Message.Meta.Timestamp, e.Delivery) }

// EventData implements notifykit.EventData.
func (e *TransactionEvent) EventData() (string, []byte) {
	return ContentTypeRawJSON, e.Delivery.Envelope.Message
}

// Stream implements Event.
func (e *TransactionEvent) Stream() Stream { return StreamTransaction }

// Raw implements Event.
func (e *TransactionEvent) Raw() *Delivery { return e.Delivery }

func (e *TransactionEvent) orderKey() string {
	return "account:" + strconv.FormatInt(e.Message.Embedded.Account.ID, 10)
}

// ID implements notifykit.Event.
func (e *SessionFinishedEvent) ID() string { return messageID(e.Delivery) }

// Source implements notifykit.Event.
func (e *SessionFinishedEvent) Source() string { return source }

// Type implements notifykit.Event.
func (e *SessionFinishedEvent) Type() string { return "banqup.session.finished" }

// Subject implements notifykit.Event.
func (e *SessionFinishedEvent) Subject() string {
	return strconv.FormatInt(e.Message.Embedded.Account.ID, 10)
}

// Time implements notifykit.Event.
func (e *SessionFinishedEvent) Time() time.Time {
	return eventTime(e.Message.Meta.Timestamp, e.Delivery)
}

// EventData implements notifykit.EventData.
func (e *SessionFinishedEvent) EventData() (string, []byte) {
	return ContentTypeRawJSON, e.Delivery.Envelope.Message
}

// Stream implements Event.
func (e *SessionFinishedEvent) Stream() Stream { return StreamSessionFinished }

// Raw implements Event.
func (e *SessionFinishedEvent) Raw() *Delivery { return e.Delivery }

func (e *SessionFinishedEvent) orderKey() string { return "account:" + e.Subject() }

// ID implements notifykit.Event.
func (e *ConsentEvent) ID() string { return messageID(e.Delivery) }

// Source implements notifykit.Event.
func (e *ConsentEvent) Source() string { return source }

// Type implements notifykit.Event.
func (e *ConsentEvent) Type() string { return typeFor("consent", e.Message.Meta.Operation) }

// Subject implements notifykit.Event.
func (e *ConsentEvent) Subject() string { return e.Message.Data.ID }

// Time implements notifykit.Event.
func (e *ConsentEvent) Time() time.Time { return eventTime(e.Message.Meta.Timestamp, e.Delivery) }

// EventData implements notifykit.EventData.
func (e *ConsentEvent) EventData() (string, []byte) {
	return ContentTypeRawJSON, e.Delivery.Envelope.Message
}

// Stream implements Event.
func (e *ConsentEvent) Stream() Stream { return StreamConsent }

// Raw implements Event.
func (e *ConsentEvent) Raw() *Delivery { return e.Delivery }

func (e *ConsentEvent) orderKey() string { return "consent:" + e.Subject() }

// ID implements notifykit.Event.
func (e *AspspCallEvent) ID() string { return messageID(e.Delivery) }

// Source implements notifykit.Event.
func (e *AspspCallEvent) Source() string { return source }

// Type implements notifykit.Event.
func (e *AspspCallEvent) Type() string { return "banqup.aspspcall.completed" }

// Subject implements notifykit.Event.
func (e *AspspCallEvent) Subject() string { return e.Message.ExecutionID }

// Time implements notifykit.Event.
func (e *AspspCallEvent) Time() time.Time { return eventTime(e.Message.Timestamp, e.Delivery) }

// EventData implements notifykit.EventData.
func (e *AspspCallEvent) EventData() (string, []byte) {
	return ContentTypeRawJSON, e.Delivery.Envelope.Message
}

// Stream implements Event.
func (e *AspspCallEvent) Stream() Stream { return StreamAspspCall }

// Raw implements Event.
func (e *AspspCallEvent) Raw() *Delivery { return e.Delivery }

// orderKey: ASPSP calls are independent log records; the session keeps
// calls of one APIHub session in order when ordering is on.
func (e *AspspCallEvent) orderKey() string { return "session:" + e.Message.Session.ID }
