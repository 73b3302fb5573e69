package comnorm

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Sentinel errors. Every error returned by this package that has one of these
// causes matches it with errors.Is, whether it was detected locally (before a
// request was sent) or reported by the server (wrapped in *APIError).
var (
	// ErrUnauthorized: the partner key or notification secret was missing or
	// rejected (HTTP 401 or 403).
	ErrUnauthorized = errors.New("comnorm: unauthorized")
	// ErrQueueNotFound: the queue does not exist or belongs to another
	// partner (HTTP 404 on a queue route).
	ErrQueueNotFound = errors.New("comnorm: queue not found")
	// ErrMessageTooLarge: the message body exceeds MaxMessageSize (checked
	// before sending) or the server answered 413.
	ErrMessageTooLarge = errors.New("comnorm: message too large")
	// ErrNotJSONObject: the message body is not a valid JSON object (checked
	// before sending) or the server answered 400 to a post.
	ErrNotJSONObject = errors.New("comnorm: message is not a JSON object")
	// ErrQueueFull: the server refused a message or queue because a limit was
	// reached (HTTP 429 on post or create).
	ErrQueueFull = errors.New("comnorm: queue or partner limit reached")
	// ErrUnavailable: the server answered 5xx or 429 to a poll or delete; the
	// consumer treats it as transient.
	ErrUnavailable = errors.New("comnorm: service unavailable")
	// ErrMalformedResponse: a success response could not be understood
	// (not a JSON array of messages, a message without messageId, too big).
	ErrMalformedResponse = errors.New("comnorm: malformed response")
)

// maxErrorBody bounds how much of an error response is kept in APIError.Body.
const maxErrorBody = 4 << 10

// APIError is a non-success HTTP response. Body holds at most the first
// 4 KiB of the response; it never contains the partner key or secret, which
// are only ever sent in request headers.
type APIError struct {
	// Op names the request: "create queue", "delete queue", "peek",
	// "delete message" or "post".
	Op string
	// StatusCode is the HTTP status of the response.
	StatusCode int
	// Body is the start of the response body, for diagnostics.
	Body []byte
	// RetryAfter is the server's Retry-After hint (zero if none).
	RetryAfter time.Duration
}

// Error describes the failed request without any credentials.
func (e *APIError) Error() string {
	s := fmt.Sprintf("comnorm: %s: HTTP %d %s", e.Op, e.StatusCode, http.StatusText(e.StatusCode))
	if len(e.Body) > 0 {
		b := e.Body
		if len(b) > 200 {
			b = b[:200]
		}
		s += ": " + strconv.Quote(string(b))
	}
	return s
}

// Is lets errors.Is match an APIError against the package sentinels by its
// status code.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden
	case ErrQueueNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrMessageTooLarge:
		return e.StatusCode == http.StatusRequestEntityTooLarge
	case ErrNotJSONObject:
		return e.StatusCode == http.StatusBadRequest && e.Op == opPost
	case ErrQueueFull:
		return e.StatusCode == http.StatusTooManyRequests && (e.Op == opPost || e.Op == opCreate)
	case ErrUnavailable:
		return e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests
	}
	return false
}

// transient reports whether a failed idempotent request may be repeated.
func (e *APIError) transient() bool {
	return e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests || e.StatusCode == http.StatusRequestTimeout
}

// Operation names used in APIError.Op.
const (
	opCreate      = "create queue"
	opDeleteQueue = "delete queue"
	opPeek        = "peek"
	opDeleteMsg   = "delete message"
	opPost        = "post"
)

// parseRetryAfter reads a Retry-After header in either of its two forms.
func parseRetryAfter(h string) time.Duration {
	if h == "" {
		return 0
	}
	if n, err := strconv.Atoi(h); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}
