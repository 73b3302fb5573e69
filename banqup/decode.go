package banqup

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Content types MassTransit uses.
const (
	// ContentTypeEnvelope is MassTransit's JSON envelope.
	ContentTypeEnvelope = "application/vnd.masstransit+json"
	// ContentTypeRawJSON is a bare JSON payload with the envelope fields in
	// transport headers.
	ContentTypeRawJSON = "application/json"
)

// Decode turns one AMQP delivery into the event of its stream:
// *AccountEvent, *TransactionEvent, *SessionFinishedEvent, *ConsentEvent or
// *AspspCallEvent.
//
// The content type selects the format: a MassTransit envelope, a raw JSON
// payload described by MassTransit's transport headers, or, when it is
// missing, whichever the body looks like. The stream is the first
// messageType URN that names one of the five, else the delivery's exchange.
// Errors are *DecodeError values matching ErrMalformed,
// ErrUnknownMessageType or ErrUnsupportedContentType. Decode never panics.
func Decode(d amqp.Delivery) (Event, error) {
	del := &Delivery{
		ContentType: d.ContentType,
		Exchange:    d.Exchange,
		RoutingKey:  d.RoutingKey,
		Redelivered: d.Redelivered,
		Headers:     d.Headers,
		Body:        d.Body,
	}
	return decodeDelivery(del, d.MessageId, d.CorrelationId)
}

func decodeDelivery(del *Delivery, amqpMessageID, amqpCorrelationID string) (Event, error) {
	fail := func(err error) (Event, error) {
		return nil, &DecodeError{MessageID: del.Envelope.MessageID, ContentType: del.ContentType,
			MessageTypes: del.Envelope.MessageType, Err: err}
	}
	del.Envelope.MessageID = amqpMessageID
	if len(bytes.TrimSpace(del.Body)) == 0 {
		return fail(fmt.Errorf("%w: empty body", ErrMalformed))
	}
	media := mediaType(del.ContentType)
	envelope := false
	switch {
	case media == ContentTypeEnvelope:
		envelope = true
	case media == ContentTypeRawJSON || media == "text/json":
	case media == "":
		envelope = looksLikeEnvelope(del.Body)
	default:
		return fail(fmt.Errorf("%w: %q", ErrUnsupportedContentType, truncate(del.ContentType, 80)))
	}
	if !utf8.Valid(del.Body) {
		return fail(fmt.Errorf("%w: body is not valid UTF-8", ErrMalformed))
	}
	if envelope {
		var env Envelope
		if err := json.Unmarshal(del.Body, &env); err != nil {
			return fail(fmt.Errorf("%w: envelope: %v", ErrMalformed, cleanJSONError(err)))
		}
		if env.MessageID == "" {
			env.MessageID = amqpMessageID
		}
		del.Envelope = env
		if isNull(env.Message) {
			return fail(fmt.Errorf("%w: envelope has no message", ErrMalformed))
		}
	} else {
		envelopeFromHeaders(&del.Envelope, del.Headers, amqpMessageID, amqpCorrelationID)
		del.Envelope.Message = del.Body
	}
	stream, ok := pickStream(del.Envelope.MessageType, del.Exchange)
	if !ok {
		return fail(ErrUnknownMessageType)
	}
	del.Stream = stream
	ev, err := decodePayload(stream, del)
	if err != nil {
		return fail(fmt.Errorf("%w: %s payload: %v", ErrMalformed, stream, cleanJSONError(err)))
	}
	return ev, nil
}

func pickStream(urns []string, exchange string) (Stream, bool) {
	for _, u := range urns {
		if s, ok := StreamForURN(u); ok {
			return s, true
		}
	}
	return StreamForExchange(exchange)
}

func decodePayload(s Stream, del *Delivery) (Event, error) {
	raw := del.Envelope.Message
	switch s {
	case StreamAccount:
		e := &AccountEvent{Delivery: del}
		return e, json.Unmarshal(raw, &e.Message)
	case StreamTransaction:
		e := &TransactionEvent{Delivery: del}
		return e, json.Unmarshal(raw, &e.Message)
	case StreamSessionFinished:
		e := &SessionFinishedEvent{Delivery: del}
		return e, json.Unmarshal(raw, &e.Message)
	case StreamConsent:
		e := &ConsentEvent{Delivery: del}
		return e, json.Unmarshal(raw, &e.Message)
	case StreamAspspCall:
		e := &AspspCallEvent{Delivery: del}
		return e, json.Unmarshal(raw, &e.Message)
	}
	return nil, ErrUnknownMessageType
}

// mediaType lower-cases the content type and drops parameters such as
// charset.
func mediaType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct))
}

// looksLikeEnvelope sniffs a body without a content type: an object with a
// top-level messageType or message member is an envelope.
func looksLikeEnvelope(body []byte) bool {
	var probe struct {
		MessageType json.RawMessage `json:"messageType"`
		Message     json.RawMessage `json:"message"`
	}
	if json.Unmarshal(body, &probe) != nil {
		return false // decoded as raw JSON, which reports the error
	}
	return !isNull(probe.MessageType) || !isNull(probe.Message)
}

func isNull(b json.RawMessage) bool {
	b = bytes.TrimSpace(b)
	return len(b) == 0 || string(b) == "null"
}

// envelopeFromHeaders rebuilds the envelope of a raw JSON message from
// MassTransit's transport headers (RawMessageSerializer).
func envelopeFromHeaders(env *Envelope, h amqp.Table, messageID, correlationID string) {
	get := func(name string) string { s, _ := headerString(h, name); return s }
	env.MessageID = firstNonEmpty(messageID, get("MessageId"))
	env.CorrelationID = firstNonEmpty(correlationID, get("CorrelationId"))
	env.ConversationID = get("ConversationId")
	env.RequestID = get("RequestId")
	env.InitiatorID = get("InitiatorId")
	env.SourceAddress = get("MT-Source-Address")
	env.ResponseAddress = get("MT-Response-Address")
	env.FaultAddress = get("MT-Fault-Address")
	env.MessageType = splitURNs(get("MT-MessageType"))
	if hi := get("MT-Host-Info"); hi != "" {
		var host HostInfo
		if json.Unmarshal([]byte(hi), &host) == nil {
			env.Host = &host
		}
	}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// cleanJSONError keeps JSON errors short: a huge body must not become a
// huge error string.
func cleanJSONError(err error) string { return truncate(err.Error(), 300) }
