package dsgo

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Sentinel errors. Every error this package returns that is about one of
// these situations matches it with errors.Is.
var (
	// ErrNotFound: the subscription does not exist or is not available to
	// the caller (HTTP 404).
	ErrNotFound = errors.New("dsgo: not found")
	// ErrNotActive: DELETE on a subscription that is no longer active
	// (HTTP 404 or 409 after a DELETE, or a provider store refusing it).
	ErrNotActive = errors.New("dsgo: subscription not active")
	// ErrUnauthorized: authentication failed or is missing (HTTP 401).
	ErrUnauthorized = errors.New("dsgo: unauthorized")
	// ErrForbidden: the caller is authenticated but not allowed (HTTP 403),
	// for example a notification whose provider_id is not the caller.
	ErrForbidden = errors.New("dsgo: forbidden")
	// ErrRateLimited: HTTP 429 or 503 that survived the retries.
	ErrRateLimited = errors.New("dsgo: rate limited or unavailable")
	// ErrInvalid: a request or notification does not satisfy the DSGO
	// object rules (missing required field, wrong resource_type, ...).
	ErrInvalid = errors.New("dsgo: invalid object")
	// ErrDecode: a body is not the JSON it should be.
	ErrDecode = errors.New("dsgo: cannot decode")
	// ErrToken: the token endpoint refused to issue a token or answered
	// something that is not a token response.
	ErrToken = errors.New("dsgo: token request failed")
	// ErrAssertion: an iSHARE client assertion JWT failed validation
	// (signature, certificate chain, claims, lifetime).
	ErrAssertion = errors.New("dsgo: invalid client assertion")
	// ErrReplay: a client assertion with an already seen jti.
	ErrReplay = errors.New("dsgo: client assertion replayed")
	// ErrCredentials: a key or certificate chain cannot be loaded or does
	// not fit together.
	ErrCredentials = errors.New("dsgo: bad credentials")
	// ErrOption: an option was given an unusable value.
	ErrOption = errors.New("dsgo: invalid option")
)

// OAuthError is the OAuth 2.0 error body (RFC 6749 §5.2), the only error
// schema DSGO defines; providers built with this SDK answer every error in
// this shape.
type OAuthError struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	URI         string `json:"error_uri,omitempty"`
}

// Error returns "code: description".
func (e *OAuthError) Error() string {
	if e.Description == "" {
		return e.Code
	}
	return e.Code + ": " + e.Description
}

// APIError is an unexpected HTTP answer from a DSGO endpoint.
type APIError struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Method and URL identify the request (the URL without query).
	Method, URL string
	// Body is the start of the response body (at most maxErrorBody bytes).
	Body []byte
	// OAuth is the decoded OAuth-style error body, when the body was one.
	OAuth *OAuthError
	// RetryAfter is the Retry-After header, if any.
	RetryAfter string
}

// Error names the request and status, and the OAuth error when present;
// never the request's credentials.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "dsgo: %s %s: HTTP %d", e.Method, e.URL, e.StatusCode)
	if e.OAuth != nil {
		b.WriteString(": ")
		b.WriteString(e.OAuth.Error())
	}
	return b.String()
}

// Is matches the sentinel that corresponds to the status code.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests || e.StatusCode == http.StatusServiceUnavailable
	}
	return false
}

// maxErrorBody bounds how much of an error response is kept.
const maxErrorBody = 64 << 10

// newAPIError reads (a bounded part of) resp's body into an *APIError.
func newAPIError(resp *http.Response) *APIError {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &APIError{
		StatusCode: resp.StatusCode,
		Method:     resp.Request.Method,
		URL:        redactURL(resp.Request.URL.String()),
		Body:       body,
		RetryAfter: resp.Header.Get("Retry-After"),
	}
	var o OAuthError
	if json.Unmarshal(body, &o) == nil && o.Code != "" {
		e.OAuth = &o
	}
	return e
}

// redactURL drops query and user info, which may carry secrets.
func redactURL(s string) string {
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	if i := strings.Index(s, "://"); i >= 0 {
		if j := strings.Index(s[i+3:], "@"); j >= 0 {
			if k := strings.Index(s[i+3:], "/"); k < 0 || j < k {
				s = s[:i+3] + s[i+3+j+1:]
			}
		}
	}
	return s
}

// innerNetError strips net/http's *url.Error wrapper, which repeats the
// full URL (query included); callers name the redacted URL themselves.
func innerNetError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
