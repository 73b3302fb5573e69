package comnorm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/notifykit/notifykit/internal/backoff"
)

// DefaultBaseURL is the hosted ComNorm notification service.
const DefaultBaseURL = "https://notification.comnorm.com/api"

// MaxPollTimeout is the longest poll timeout Peek accepts. A caller-supplied
// http.Client must allow requests of at least MaxPollTimeout plus the poll
// slack.
const MaxPollTimeout = 60 * time.Second

// Header names exactly as the vendor document spells them.
const (
	headerPartnerKey = "X-PARTNER-KEY"
	headerSecret     = "X-COMNORM-NOTIFICATION-SECRET"
)

// Client is the receiver side of a ComNorm queue: it creates and deletes
// queues and peeks and deletes messages with the partner key. It is safe
// for concurrent use.
type Client struct {
	base       string
	partnerKey string
	t          transport
	slack      time.Duration
	reqTimeout time.Duration
	attempts   int
	backoff    backoff.Func
}

// NewClient returns a client that authenticates with partnerKey against
// DefaultBaseURL or the URL given with WithBaseURL.
//
// Options: WithBaseURL, WithHTTPClient, WithUserAgent, WithLogger,
// WithPollSlack, WithRequestTimeout, WithRetry.
func NewClient(partnerKey string, opts ...Option) (*Client, error) {
	if partnerKey == "" {
		return nil, errors.New("comnorm: NewClient: empty partner key")
	}
	o, err := applyOptions(forClient, opts)
	if err != nil {
		return nil, err
	}
	base := DefaultBaseURL
	if o.baseURL != "" {
		base = o.baseURL
	}
	if err := checkHTTPClient(o.httpClient, MaxPollTimeout+o.pollSlack); err != nil {
		return nil, err
	}
	c := &Client{
		base:       strings.TrimRight(base, "/"),
		partnerKey: partnerKey,
		t:          newTransport(o),
		slack:      o.pollSlack,
		reqTimeout: o.reqTimeout,
		attempts:   3,
		backoff:    backoff.Exponential(200*time.Millisecond, 5*time.Second),
	}
	if o.retrySet {
		c.attempts = o.maxAttempts
		if o.retryBackoff != nil {
			c.backoff = o.retryBackoff
		}
	}
	return c, nil
}

func newTransport(o *options) transport {
	t := transport{hc: o.httpClient, userAgent: userAgent, logger: o.logger}
	if t.hc == nil {
		t.hc = defaultHTTPClient()
	}
	if o.userAgent != "" {
		t.userAgent = o.userAgent
	}
	return t
}

// checkHTTPClient refuses a client whose own time limits would cut every
// long poll short; the failure would otherwise look like a flaky network.
func checkHTTPClient(hc *http.Client, need time.Duration) error {
	if hc == nil {
		return nil
	}
	if hc.Timeout != 0 && hc.Timeout <= need {
		return fmt.Errorf("comnorm: http.Client.Timeout %v would cut long polls short; use 0 (requests carry their own deadlines) or more than %v", hc.Timeout, need)
	}
	if tr, ok := hc.Transport.(*http.Transport); ok && tr.ResponseHeaderTimeout != 0 && tr.ResponseHeaderTimeout <= need {
		return fmt.Errorf("comnorm: Transport.ResponseHeaderTimeout %v would cut long polls short; use 0 or more than %v", tr.ResponseHeaderTimeout, need)
	}
	return nil
}

func (c *Client) auth() map[string]string { return map[string]string{headerPartnerKey: c.partnerKey} }

func (c *Client) queueURL(id string, rest ...string) string {
	u := c.base + "/queues/" + url.PathEscape(id)
	for _, r := range rest {
		u += "/" + url.PathEscape(r)
	}
	return u
}

// CreateQueue creates a queue. It is never retried, because a lost response
// would leave an orphan queue behind each retry.
func (c *Client) CreateQueue(ctx context.Context) (*Queue, error) {
	resp, err := c.t.do(ctx, request{op: opCreate, method: http.MethodPost, url: c.base + "/queues", header: c.auth(), timeout: c.reqTimeout})
	if err != nil {
		return nil, err
	}
	var q Queue
	if err := json.Unmarshal(resp.body, &q); err != nil || q.ID == "" || q.NotificationURL == "" || q.NotificationSecret == "" {
		return nil, fmt.Errorf("comnorm: create queue: %w: want queueId, notificationURL, notificationSecret", ErrMalformedResponse)
	}
	return &q, nil
}

// DeleteQueue deletes a queue with all its messages. A queue that does not
// exist (404) counts as deleted.
func (c *Client) DeleteQueue(ctx context.Context, queueID string) error {
	_, err := c.t.doRetry(ctx, request{op: opDeleteQueue, method: http.MethodDelete, url: c.queueURL(queueID), header: c.auth(), timeout: c.reqTimeout}, c.attempts, c.backoff)
	if errors.Is(err, ErrQueueNotFound) {
		return nil
	}
	return err
}

// Peek returns messages from the head of the queue without removing them.
// An empty result (an empty array or 408 Request Timeout) is nil, nil.
//
// The request's deadline is opts.Timeout plus the poll slack, independent of
// any http.Client timeout, so a long poll is neither cut short nor left
// hanging when the server or a proxy never answers.
func (c *Client) Peek(ctx context.Context, queueID string, opts PeekOptions) ([]Message, error) {
	if opts.Count < 0 || opts.Timeout < 0 || opts.Timeout > MaxPollTimeout {
		return nil, fmt.Errorf("comnorm: peek: count must be >= 0 and timeout in [0, %v]", MaxPollTimeout)
	}
	q := url.Values{}
	if opts.Count > 0 {
		q.Set("count", strconv.Itoa(opts.Count))
	}
	secs := int((opts.Timeout + time.Second - 1) / time.Second)
	if secs > 0 {
		q.Set("timeout", strconv.Itoa(secs))
	}
	u := c.queueURL(queueID, "messages")
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	r := request{op: opPeek, method: http.MethodGet, url: u, header: c.auth(), timeout: time.Duration(secs)*time.Second + c.slack}
	resp, err := c.t.doRetry(ctx, r, c.attempts, c.backoff)
	if err != nil {
		return nil, err
	}
	if resp.status == http.StatusRequestTimeout {
		return nil, nil
	}
	return DecodeMessages(resp.body)
}

// DecodeMessages parses a Peek response body: a JSON array of
// {"messageId", "content"} objects; unknown fields are ignored, an empty
// body or array gives nil. Every message must carry a messageId, or it could
// never be deleted. Errors match ErrMalformedResponse.
func DecodeMessages(b []byte) ([]Message, error) {
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil, nil
	}
	var msgs []Message
	if err := json.Unmarshal(b, &msgs); err != nil {
		return nil, fmt.Errorf("comnorm: peek: %w: %v", ErrMalformedResponse, err)
	}
	for i, m := range msgs {
		if m.ID == "" {
			return nil, fmt.Errorf("comnorm: peek: %w: message %d has no messageId", ErrMalformedResponse, i)
		}
	}
	if len(msgs) == 0 {
		return nil, nil
	}
	return msgs, nil
}

// DeleteMessage removes a message for good. Deleting a message that is
// already gone succeeds (a 404 counts as done), so it is safe to repeat.
func (c *Client) DeleteMessage(ctx context.Context, queueID, messageID string) error {
	_, err := c.t.doRetry(ctx, request{op: opDeleteMsg, method: http.MethodDelete, url: c.queueURL(queueID, "messages", messageID), header: c.auth(), timeout: c.reqTimeout}, c.attempts, c.backoff)
	if errors.Is(err, ErrQueueNotFound) {
		return nil
	}
	return err
}
