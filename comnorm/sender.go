package comnorm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/notifykit/notifykit/internal/backoff"
)

// Sender posts messages to notification URLs (the sender side, e.g. an
// online shop). It holds no credentials: the notification secret is passed
// per call, because one sender may serve several receivers. Safe for
// concurrent use.
type Sender struct {
	t          transport
	reqTimeout time.Duration
	attempts   int
	backoff    backoff.Func
}

// NewSender returns a Sender. Options: WithHTTPClient, WithUserAgent,
// WithLogger, WithRequestTimeout, WithRetry (opt-in; may duplicate
// messages).
func NewSender(opts ...Option) (*Sender, error) {
	o, err := applyOptions(forSender, opts)
	if err != nil {
		return nil, err
	}
	s := &Sender{t: newTransport(o), reqTimeout: o.reqTimeout, attempts: 1, backoff: backoff.Exponential(500*time.Millisecond, 30*time.Second)}
	if o.retrySet {
		s.attempts = o.maxAttempts
		if o.retryBackoff != nil {
			s.backoff = o.retryBackoff
		}
	}
	return s, nil
}

// Post marshals v to JSON and posts it to notificationURL with the secret.
// v may also be []byte or json.RawMessage holding JSON already. The body is
// checked before anything is sent: it must be a JSON object (else
// ErrNotJSONObject) of at most MaxMessageSize bytes (else
// ErrMessageTooLarge). Any 2xx answer is success.
//
// Use notificationURL exactly as Create Queue returned it; it may point to a
// self-hosted service, so it is never rebuilt from a queue id.
func (s *Sender) Post(ctx context.Context, notificationURL, secret string, v any) error {
	var body []byte
	switch x := v.(type) {
	case []byte:
		body = x
	case json.RawMessage:
		body = x
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrNotJSONObject, err)
		}
		body = b
	}
	if err := CheckBody(body); err != nil {
		return err
	}
	u, err := url.Parse(notificationURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("comnorm: post: notification URL must be an absolute http(s) URL")
	}
	if secret == "" {
		return fmt.Errorf("comnorm: post: %w: empty notification secret", ErrUnauthorized)
	}
	r := request{op: opPost, method: http.MethodPost, url: notificationURL, header: map[string]string{headerSecret: secret}, body: body, timeout: s.reqTimeout}
	_, err = s.t.doRetry(ctx, r, s.attempts, s.backoff)
	return err
}
