package dsgo

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/notifykit/notifykit"
)

// Option configures a constructor of this package (NewClient,
// NewISHARETokenSource, NewReceiver, NewAssertionVerifier,
// NewTokenEndpoint). Options that do not concern a constructor are ignored
// by it; each option's documentation says where it applies.
type Option func(*options) error

type options struct {
	logger     *slog.Logger
	onError    func(error)
	httpClient *http.Client
	now        func() time.Time

	// client
	retryMax     int
	retryBackoff func(int) time.Duration
	maxRetryWait time.Duration
	creds        *Credentials
	serverID     string
	tokenURL     string
	scope        string
	tokenSource  TokenSource

	// receiver
	handler    notifykit.Handler
	maxBody    int64
	dedupe     notifykit.DedupeStore
	dedupeTTL  time.Duration
	noDedupe   bool
	middleware []notifykit.Middleware
	enqueue    func(ctx context.Context, n *Notification) error

	// verifier / token endpoint
	skew        time.Duration
	partyCheck  func(ctx context.Context, partyID string, chain []*x509.Certificate) error
	tokenTTL    time.Duration
	scopes      []string
	replayLimit int
	tokenStore  TokenStore
	replayStore notifykit.DedupeStore
}

func defaults() options {
	return options{
		logger:       slog.New(slog.DiscardHandler),
		onError:      func(error) {},
		httpClient:   &http.Client{Timeout: 30 * time.Second},
		now:          time.Now,
		retryMax:     4,
		retryBackoff: func(a int) time.Duration { return time.Duration(a) * 500 * time.Millisecond },
		maxRetryWait: time.Minute,
		scope:        "iSHARE",
		maxBody:      1 << 20,
		dedupeTTL:    24 * time.Hour,
		skew:         10 * time.Second,
		tokenTTL:     time.Hour,
		scopes:       []string{"iSHARE", "dsgo ishare"},
		replayLimit:  1_000_000,
	}
}

func applyOptions(opts []Option) (options, error) {
	o := defaults()
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return o, err
		}
	}
	return o, nil
}

func optErr(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrOption}, a...)...)
}

// WithLogger sets the logger (default: discard). All constructors.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return optErr("nil logger")
		}
		o.logger = l
		return nil
	}
}

// WithOnError sets a callback for failures nobody else sees, such as a
// webhook handler error or a dedupe store failure. All constructors.
func WithOnError(f func(error)) Option {
	return func(o *options) error {
		if f == nil {
			return optErr("nil OnError")
		}
		o.onError = f
		return nil
	}
}

// WithHTTPClient sets the HTTP client for API and token calls (default: a
// client with a 30 s timeout). NewClient, NewISHARETokenSource.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) error {
		if c == nil {
			return optErr("nil http.Client")
		}
		o.httpClient = c
		return nil
	}
}

// WithClock replaces time.Now, for tests. All constructors.
func WithClock(now func() time.Time) Option {
	return func(o *options) error {
		if now == nil {
			return optErr("nil clock")
		}
		o.now = now
		return nil
	}
}

// WithRetry sets how often a request is tried in total when it is answered
// 429 or 503, or (GET and DELETE only: a POST may have been processed) fails
// with a network error, and the delay before retry n when the server sends
// no Retry-After. Default: 4 attempts, 0.5 s × n. NewClient.
func WithRetry(maxAttempts int, backoff func(attempt int) time.Duration) Option {
	return func(o *options) error {
		if maxAttempts < 1 || backoff == nil {
			return optErr("WithRetry needs maxAttempts >= 1 and a backoff")
		}
		o.retryMax, o.retryBackoff = maxAttempts, backoff
		return nil
	}
}

// WithMaxRetryWait caps how long one Retry-After is honoured (default 1 min);
// a longer one ends the retries with the 429/503 error. NewClient.
func WithMaxRetryWait(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return optErr("negative max retry wait")
		}
		o.maxRetryWait = d
		return nil
	}
}

// WithCredentials makes NewClient authenticate the iSHARE way with creds
// towards the server party serverID (the provider's organisation ID, used
// as aud). The token URL defaults to <base URL>/connect/token; see
// WithTokenURL. NewClient.
func WithCredentials(creds *Credentials, serverID string) Option {
	return func(o *options) error {
		if err := creds.check(); err != nil {
			return err
		}
		if serverID == "" {
			return optErr("empty server party id")
		}
		o.creds, o.serverID = creds, serverID
		return nil
	}
}

// WithTokenURL sets the token endpoint (default <base URL>/connect/token;
// some parties use /token). NewClient.
func WithTokenURL(u string) Option {
	return func(o *options) error {
		if u == "" {
			return optErr("empty token URL")
		}
		o.tokenURL = u
		return nil
	}
}

// WithScope sets the scope of token requests (default "iSHARE"; the DSGO
// wiki writes "dsgo ishare"). NewClient, NewISHARETokenSource.
func WithScope(scope string) Option {
	return func(o *options) error {
		if scope == "" {
			return optErr("empty scope")
		}
		o.scope = scope
		return nil
	}
}

// WithTokenSource makes NewClient take bearer tokens from ts instead of
// building an ISHARETokenSource from WithCredentials. NewClient.
func WithTokenSource(ts TokenSource) Option {
	return func(o *options) error {
		if ts == nil {
			return optErr("nil token source")
		}
		o.tokenSource = ts
		return nil
	}
}
