package dsgoprovider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/notifykit/notifykit/dsgo"
	"github.com/notifykit/notifykit/internal/backoff"
)

// ErrOption is matched by errors from invalid options.
var ErrOption = errors.New("dsgoprovider: invalid option")

// Option configures New.
type Option func(*options) error

// Action names what a caller wants to do with /subscriptions, for Policy.
type Action string

// Actions a Policy is asked about.
const (
	ActionList   Action = "list"
	ActionGet    Action = "get"
	ActionCreate Action = "create"
	ActionDelete Action = "delete"
	ActionTest   Action = "test"
)

// Policy authorises an authenticated party's request; a non-nil error is
// answered 403. sub is nil for list and create.
type Policy func(ctx context.Context, party string, action Action, sub *dsgo.Subscription) error

type options struct {
	logger       *slog.Logger
	onError      func(error)
	now          func() time.Time
	httpClient   *http.Client
	maxAttempts  int
	backoff      func(int) time.Duration
	timeout      time.Duration
	concurrency  int
	poll         time.Duration
	allowPrivate bool
	allowHTTP    bool
	eventTypes   []string
	policy       Policy
	auth         dsgo.Authenticator
	webhookAuth  WebhookAuth
	dialect      dsgo.Dialect
	basePath     string
	verifierOpts []dsgo.Option
}

func defaults() options {
	return options{
		logger:      slog.New(slog.DiscardHandler),
		onError:     func(error) {},
		now:         time.Now,
		maxAttempts: 12,
		backoff:     backoff.Exponential(5*time.Second, time.Hour),
		timeout:     15 * time.Second,
		concurrency: 8,
		poll:        time.Second,
	}
}

func optErr(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrOption}, a...)...)
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return optErr("nil logger")
		}
		o.logger = l
		return nil
	}
}

// WithOnError receives failures nobody else sees: deliveries that failed
// for good, store errors in the dispatcher.
func WithOnError(f func(error)) Option {
	return func(o *options) error {
		if f == nil {
			return optErr("nil OnError")
		}
		o.onError = f
		return nil
	}
}

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option {
	return func(o *options) error {
		if now == nil {
			return optErr("nil clock")
		}
		o.now = now
		return nil
	}
}

// WithHTTPClient replaces the dispatcher's HTTP client. The default client
// refuses private and loopback targets (see WithAllowPrivateTargets) and
// does not follow redirects; a replacement client is used as given, so it
// must bring its own SSRF protection.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) error {
		if c == nil {
			return optErr("nil http.Client")
		}
		o.httpClient = c
		return nil
	}
}

// WithRetry sets the total attempts per notification and the delay before
// retry n. Default: 12 attempts, 5 s doubling up to 1 h, jittered.
func WithRetry(maxAttempts int, backoff func(attempt int) time.Duration) Option {
	return func(o *options) error {
		if maxAttempts < 1 || backoff == nil {
			return optErr("WithRetry needs maxAttempts >= 1 and a backoff")
		}
		o.maxAttempts, o.backoff = maxAttempts, backoff
		return nil
	}
}

// WithAttemptTimeout bounds one delivery attempt (default 15 s).
func WithAttemptTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return optErr("non-positive attempt timeout")
		}
		o.timeout = d
		return nil
	}
}

// WithConcurrency sets how many deliveries run at once (default 8).
func WithConcurrency(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return optErr("concurrency below 1")
		}
		o.concurrency = n
		return nil
	}
}

// WithPollInterval sets how often the dispatcher looks for due deliveries
// and expired subscriptions when nothing wakes it (default 1 s). Publish
// wakes it at once.
func WithPollInterval(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return optErr("non-positive poll interval")
		}
		o.poll = d
		return nil
	}
}

// WithAllowPrivateTargets lets the dispatcher call webhooks on loopback,
// private, link-local and other non-public addresses, which it refuses by
// default so that a subscriber cannot point the provider at its internal
// network (SSRF). Tests and in-house deployments enable it.
func WithAllowPrivateTargets() Option {
	return func(o *options) error { o.allowPrivate = true; return nil }
}

// WithAllowHTTPWebhooks accepts http:// webhook URLs (default: https only,
// as DSGO requires TLS).
func WithAllowHTTPWebhooks() Option {
	return func(o *options) error { o.allowHTTP = true; return nil }
}

// WithEventTypes lists the event types this provider defines; subscriptions
// must pick a non-empty subset. Without it any event type is accepted.
func WithEventTypes(types ...string) Option {
	return func(o *options) error {
		if len(types) == 0 {
			return optErr("no event types")
		}
		o.eventTypes = types
		return nil
	}
}

// WithPolicy sets the authorisation policy for /subscriptions (default:
// every authenticated party may manage its own subscriptions).
func WithPolicy(p Policy) Option {
	return func(o *options) error {
		if p == nil {
			return optErr("nil policy")
		}
		o.policy = p
		return nil
	}
}

// WithAuthenticator replaces how /subscriptions callers are identified
// (default: bearer tokens issued by this provider's /connect/token). The
// authenticator must name the party: an empty party is answered 401.
func WithAuthenticator(a dsgo.Authenticator) Option {
	return func(o *options) error {
		if a == nil {
			return optErr("nil authenticator")
		}
		o.auth = a
		return nil
	}
}

// WithWebhookAuth sets how the dispatcher authenticates to webhooks:
// NoWebhookAuth, StaticWebhookToken, SignedAssertionAuth or ISHAREBearer.
// Required: the choice must be explicit.
func WithWebhookAuth(a WebhookAuth) Option {
	return func(o *options) error {
		if a == nil {
			return optErr("nil webhook auth")
		}
		o.webhookAuth = a
		return nil
	}
}

// WithDialect sets how notifications and subscriptions are written
// (default dsgo.DialectWiki).
func WithDialect(d dsgo.Dialect) Option {
	return func(o *options) error {
		if d.String() == "invalid" {
			return optErr("unknown dialect")
		}
		o.dialect = d
		return nil
	}
}

// WithBasePath sets the path prefix under which Handler is mounted (e.g.
// "/api"), used in subscription url/href and Location. Default "".
func WithBasePath(p string) Option {
	return func(o *options) error { o.basePath = p; return nil }
}

// WithVerifierOptions passes options (dsgo.WithPartyCheck, dsgo.WithSkew,
// dsgo.WithTokenTTL, ...) to the provider's assertion verifier and token
// endpoint.
func WithVerifierOptions(opts ...dsgo.Option) Option {
	return func(o *options) error { o.verifierOpts = append(o.verifierOpts, opts...); return nil }
}
