package comnorm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/notifykit/notifykit"
)

// Option configures a Client, Sender or Consumer. Options validate their
// arguments, and an option that does not apply to the thing being built
// (WithConcurrency on a Client, say) is an error rather than silently ignored.
type Option func(*options) error

// kind says which constructor is applying options.
type kind uint8

const (
	forClient kind = 1 << iota
	forSender
	forConsumer
)

func (k kind) String() string {
	switch k {
	case forClient:
		return "Client"
	case forSender:
		return "Sender"
	default:
		return "Consumer"
	}
}

type options struct {
	kind kind

	logger     *slog.Logger
	onError    func(error)
	httpClient *http.Client
	userAgent  string

	// Client and Sender.
	baseURL      string
	pollSlack    time.Duration
	reqTimeout   time.Duration
	retrySet     bool
	maxAttempts  int
	retryBackoff func(int) time.Duration

	// Consumer.
	handler         notifykit.Handler
	middlewares     []notifykit.Middleware
	count           int
	pollTimeout     time.Duration
	concurrency     int
	deadLetter      func(context.Context, *Event, error) error
	shutdownTimeout time.Duration
	minPollInterval time.Duration
	errorBackoff    func(int) time.Duration
}

func (o *options) only(name string, allowed kind) error {
	if o.kind&allowed == 0 {
		return fmt.Errorf("comnorm: %s does not apply to a %v", name, o.kind)
	}
	return nil
}

func applyOptions(k kind, opts []Option) (*options, error) {
	o := &options{
		kind:            k,
		logger:          slog.New(slog.DiscardHandler),
		onError:         func(error) {},
		pollSlack:       10 * time.Second,
		reqTimeout:      30 * time.Second,
		count:           10,
		pollTimeout:     20 * time.Second,
		concurrency:     1,
		shutdownTimeout: 30 * time.Second,
		minPollInterval: time.Second,
	}
	for _, opt := range opts {
		if opt == nil {
			return nil, errors.New("comnorm: nil Option")
		}
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// WithLogger sets the logger (default: discard). Credentials are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return errors.New("comnorm: WithLogger(nil)")
		}
		o.logger = l
		return nil
	}
}

// WithOnError sets a callback for asynchronous failures: failed polls and
// deletes, handler errors, messages that reached the attempt limit. It must
// not block for long.
func WithOnError(f func(error)) Option {
	return func(o *options) error {
		if f == nil {
			return errors.New("comnorm: WithOnError(nil)")
		}
		o.onError = f
		return nil
	}
}

// WithHTTPClient uses c for all requests. Because a Peek is held open by the
// server for up to its timeout, a client whose Timeout is set must allow at
// least the longest poll plus the slack (see WithPollSlack); NewClient
// rejects a shorter one. Each request gets its own context deadline anyway,
// so leaving Timeout at zero is the recommended setting.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) error {
		if err := o.only("WithHTTPClient", forClient|forSender); err != nil {
			return err
		}
		if c == nil {
			return errors.New("comnorm: WithHTTPClient(nil)")
		}
		o.httpClient = c
		return nil
	}
}

// WithUserAgent replaces the User-Agent header (default "notifykit/0.1").
func WithUserAgent(ua string) Option {
	return func(o *options) error {
		if err := o.only("WithUserAgent", forClient|forSender); err != nil {
			return err
		}
		o.userAgent = ua
		return nil
	}
}

// WithBaseURL points the client at another service than DefaultBaseURL,
// such as a self-hosted comnormserver ("http://host:8080/api"). It is the
// URL that the vendor's paths (/queues/...) are appended to.
func WithBaseURL(u string) Option {
	return func(o *options) error {
		if err := o.only("WithBaseURL", forClient); err != nil {
			return err
		}
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return fmt.Errorf("comnorm: WithBaseURL: want an absolute http(s) URL, got %q", u)
		}
		o.baseURL = u
		return nil
	}
}

// WithPollSlack sets how much longer than the poll timeout a Peek request may
// take before the client gives up on it (default 10 s).
func WithPollSlack(d time.Duration) Option {
	return func(o *options) error {
		if err := o.only("WithPollSlack", forClient); err != nil {
			return err
		}
		if d <= 0 {
			return errors.New("comnorm: poll slack must be positive")
		}
		o.pollSlack = d
		return nil
	}
}

// WithRequestTimeout bounds each request other than a long poll (create,
// delete, post) on top of the caller's context (default 30 s), so a server
// that accepts the connection and never answers cannot hang a caller that
// passed context.Background().
func WithRequestTimeout(d time.Duration) Option {
	return func(o *options) error {
		if err := o.only("WithRequestTimeout", forClient|forSender); err != nil {
			return err
		}
		if d <= 0 {
			return errors.New("comnorm: request timeout must be positive")
		}
		o.reqTimeout = d
		return nil
	}
}

// WithRetry sets how often something is tried and how long to wait between
// tries (attempt counts from 1; b may be nil for a jittered exponential
// default).
//
//   - On a Client it applies only to idempotent requests (Peek, Delete
//     Message, Delete Queue), default 3 attempts. Create Queue is never
//     retried.
//   - On a Sender it enables retrying Post, which is off by default: a post
//     whose response was lost may be stored twice, so retries can duplicate
//     messages. Receivers should deduplicate by content if that matters.
//   - On a Consumer it is the per-message policy: a message whose handler
//     failed is retried after b(attempt), and after maxAttempts failures it
//     goes to the dead-letter callback (default 5 attempts).
func WithRetry(maxAttempts int, b func(attempt int) time.Duration) Option {
	return func(o *options) error {
		if maxAttempts < 1 {
			return fmt.Errorf("comnorm: WithRetry: maxAttempts %d < 1", maxAttempts)
		}
		o.retrySet = true
		o.maxAttempts = maxAttempts
		o.retryBackoff = b
		return nil
	}
}

// WithHandler sets the consumer's generic handler; it receives *Event values.
// OnMessage is the typed alternative.
func WithHandler(h notifykit.Handler) Option {
	return func(o *options) error {
		if err := o.only("WithHandler", forConsumer); err != nil {
			return err
		}
		if h == nil {
			return errors.New("comnorm: WithHandler(nil)")
		}
		o.handler = h
		return nil
	}
}

// WithMiddleware wraps the consumer's handler; the first listed is outermost.
func WithMiddleware(mws ...notifykit.Middleware) Option {
	return func(o *options) error {
		if err := o.only("WithMiddleware", forConsumer); err != nil {
			return err
		}
		o.middlewares = append(o.middlewares, mws...)
		return nil
	}
}

// WithBatch sets how many messages one peek asks for (default 10). Messages
// behind the first count that are waiting for a retry are not seen, so a
// queue whose head holds count failing messages stalls until they are
// dead-lettered; raise count if that matters.
func WithBatch(count int) Option {
	return func(o *options) error {
		if err := o.only("WithBatch", forConsumer); err != nil {
			return err
		}
		if count < 1 {
			return fmt.Errorf("comnorm: WithBatch(%d): count must be >= 1", count)
		}
		o.count = count
		return nil
	}
}

// WithPollTimeout sets the long-poll timeout sent with each peek (default
// 20 s, below the 30–60 s after which proxies tend to cut requests). It is
// rounded up to whole seconds.
func WithPollTimeout(d time.Duration) Option {
	return func(o *options) error {
		if err := o.only("WithPollTimeout", forConsumer); err != nil {
			return err
		}
		if d < 0 {
			return errors.New("comnorm: negative poll timeout")
		}
		o.pollTimeout = d
		return nil
	}
}

// WithConcurrency sets how many messages are handled at once (default 1,
// which keeps FIFO order, except that a failed message is retried after its
// backoff while later messages go ahead). With n > 1 messages are handled
// in parallel and may finish out of order.
func WithConcurrency(n int) Option {
	return func(o *options) error {
		if err := o.only("WithConcurrency", forConsumer); err != nil {
			return err
		}
		if n < 1 {
			return fmt.Errorf("comnorm: WithConcurrency(%d): must be >= 1", n)
		}
		o.concurrency = n
		return nil
	}
}

// WithDeadLetter sets the callback for a message whose handler failed
// maxAttempts times (see WithRetry). If it returns nil the message is
// deleted from the queue; if it returns an error the message stays and the
// callback is tried again on the next peek after the backoff. Without a
// callback such messages stay in the queue and are reported to OnError each
// time they come round again — deletion is irreversible, so it is never
// done without somebody having taken the message.
func WithDeadLetter(f func(ctx context.Context, e *Event, lastErr error) error) Option {
	return func(o *options) error {
		if err := o.only("WithDeadLetter", forConsumer); err != nil {
			return err
		}
		if f == nil {
			return errors.New("comnorm: WithDeadLetter(nil)")
		}
		o.deadLetter = f
		return nil
	}
}

// WithShutdownTimeout bounds how long Run waits, after its context ended, for
// running handlers and pending deletes (default 30 s). Handlers get a
// context that is cancelled when this time is up.
func WithShutdownTimeout(d time.Duration) Option {
	return func(o *options) error {
		if err := o.only("WithShutdownTimeout", forConsumer); err != nil {
			return err
		}
		if d <= 0 {
			return errors.New("comnorm: shutdown timeout must be positive")
		}
		o.shutdownTimeout = d
		return nil
	}
}

// WithMinPollInterval sets the least time between two polls that returned
// nothing (default 1 s), so that a server which ignores the timeout cannot
// turn the consumer into a busy loop.
func WithMinPollInterval(d time.Duration) Option {
	return func(o *options) error {
		if err := o.only("WithMinPollInterval", forConsumer); err != nil {
			return err
		}
		if d < 0 {
			return errors.New("comnorm: negative poll interval")
		}
		o.minPollInterval = d
		return nil
	}
}

// WithErrorBackoff sets the wait after a failed poll (default jittered
// exponential from 1 s to 60 s). A Retry-After from the server is honoured
// when it is longer.
func WithErrorBackoff(b func(attempt int) time.Duration) Option {
	return func(o *options) error {
		if err := o.only("WithErrorBackoff", forConsumer); err != nil {
			return err
		}
		if b == nil {
			return errors.New("comnorm: WithErrorBackoff(nil)")
		}
		o.errorBackoff = b
		return nil
	}
}
