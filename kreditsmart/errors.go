package kreditsmart

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error this package returns or reports matches one of
// them with errors.Is, so callers never need to compare strings.
var (
	// ErrMalformedPayload is matched by payloads that are not a JSON object
	// of the KEX-PUSH shape.
	ErrMalformedPayload = errors.New("kreditsmart: malformed payload")
	// ErrMissingVorgangsnummer is matched by payloads without a non-empty
	// vorgangsnummer, the one field a notification cannot do without.
	ErrMissingVorgangsnummer = errors.New("kreditsmart: payload has no vorgangsnummer")
	// ErrPayloadTooLarge is matched by payloads above AWS IoT's 128 KB limit
	// (MQTT) or the webhook handler's body limit.
	ErrPayloadTooLarge = errors.New("kreditsmart: payload too large")
	// ErrInvalidPartnerbaum is matched by partner trees that cannot be a
	// topic: empty segments, wildcards, a leading $.
	ErrInvalidPartnerbaum = errors.New("kreditsmart: invalid Partnerbaum")
	// ErrInvalidTopicFilter is matched by filters that AWS IoT would reject
	// (more than 7 slashes, longer than 256 bytes, misplaced wildcards).
	ErrInvalidTopicFilter = errors.New("kreditsmart: invalid topic filter")

	// ErrMissingSignature is matched when a webhook request has no
	// X-SIGNATURE header.
	ErrMissingSignature = errors.New("kreditsmart: missing X-SIGNATURE")
	// ErrInvalidSignature is matched when X-SIGNATURE does not match the
	// body under any configured secret.
	ErrInvalidSignature = errors.New("kreditsmart: invalid X-SIGNATURE")

	// ErrTopicUnresolved is matched when the subscriber cannot learn its
	// topic: no TopicPointer/TopicFunc configured, the pointer does not
	// match the shadow document, or the value there is not a usable topic.
	ErrTopicUnresolved = errors.New("kreditsmart: topic could not be resolved")
	// ErrShadow is matched when the device shadow cannot be read (rejected,
	// timed out, HTTP error).
	ErrShadow = errors.New("kreditsmart: device shadow unavailable")
	// ErrSubscriptionRejected is matched when the broker refused a
	// subscription, by SUBACK reason code or, as AWS IoT does, by closing
	// the connection right after the SUBSCRIBE several times in a row.
	ErrSubscriptionRejected = errors.New("kreditsmart: subscription rejected")
	// ErrHandler is matched by errors the handler returned (after retries).
	ErrHandler = errors.New("kreditsmart: handler failed")
	// ErrConnect is matched by failed connection attempts (TLS handshake,
	// CONNACK refusal).
	ErrConnect = errors.New("kreditsmart: connect failed")
	// ErrConfig is matched by invalid configuration or options.
	ErrConfig = errors.New("kreditsmart: invalid configuration")
)

// PayloadError reports an MQTT or webhook payload that could not be turned
// into a Notification. The subscriber passes it to OnError and keeps running.
type PayloadError struct {
	Topic string // MQTT topic, empty for webhooks
	Raw   []byte // the payload as received (possibly cut to the size limit)
	Err   error  // matches ErrMalformedPayload, ErrMissingVorgangsnummer or ErrPayloadTooLarge
}

// Error implements the error interface.
func (e *PayloadError) Error() string {
	if e.Topic == "" {
		return e.Err.Error()
	}
	return fmt.Sprintf("%v (topic %q, %d bytes)", e.Err, e.Topic, len(e.Raw))
}

// Unwrap returns the underlying cause.
func (e *PayloadError) Unwrap() error { return e.Err }

// HandlerError reports a notification whose handler failed on every attempt.
// MQTT has no negative acknowledgement and Europace stores nothing, so the
// subscriber acknowledges the message anyway and hands this error to OnError:
// the application reconciles the Vorgang through the KEX export API.
type HandlerError struct {
	Notification *Notification
	Attempts     int
	Err          error
}

// Error implements the error interface.
func (e *HandlerError) Error() string {
	return fmt.Sprintf("kreditsmart: handler failed for Vorgang %s after %d attempt(s): %v",
		e.Notification.Vorgangsnummer, e.Attempts, e.Err)
}

// Unwrap returns the handler's error.
func (e *HandlerError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrHandler) true.
func (e *HandlerError) Is(target error) bool { return target == ErrHandler }
