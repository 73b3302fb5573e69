package comnormserver

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// Limits bound what one partner and one request may use. Zero fields take
// the defaults shown in DefaultLimits.
type Limits struct {
	// MaxCount caps a peek's count parameter (default 100).
	MaxCount int
	// MaxTimeout caps a peek's timeout parameter (default 30 s).
	MaxTimeout time.Duration
	// MaxQueuesPerPartner caps Create Queue; beyond it: 429 (default 100).
	MaxQueuesPerPartner int
	// MaxMessagesPerQueue caps Post Message; beyond it: 429 (default 100,000).
	MaxMessagesPerQueue int
	// MaxMessageChars is the vendor's 16,384-character limit, counted in
	// Unicode code points; beyond it: 413.
	MaxMessageChars int
	// MaxBodyBytes caps the bytes read for one post; beyond it: 413
	// (default 65,536, i.e. 16,384 characters of at most 4 bytes each).
	MaxBodyBytes int64
}

// DefaultLimits are the limits used for zero fields.
var DefaultLimits = Limits{
	MaxCount:            100,
	MaxTimeout:          30 * time.Second,
	MaxQueuesPerPartner: 100,
	MaxMessagesPerQueue: 100000,
	MaxMessageChars:     16384,
	MaxBodyBytes:        65536,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxCount > 0 {
		d.MaxCount = l.MaxCount
	}
	if l.MaxTimeout > 0 {
		d.MaxTimeout = l.MaxTimeout
	}
	if l.MaxQueuesPerPartner > 0 {
		d.MaxQueuesPerPartner = l.MaxQueuesPerPartner
	}
	if l.MaxMessagesPerQueue > 0 {
		d.MaxMessagesPerQueue = l.MaxMessagesPerQueue
	}
	if l.MaxMessageChars > 0 {
		d.MaxMessageChars = l.MaxMessageChars
	}
	if l.MaxBodyBytes > 0 {
		d.MaxBodyBytes = l.MaxBodyBytes
	}
	return d
}

// Option configures a Server.
type Option func(*options) error

type options struct {
	logger       *slog.Logger
	onError      func(error)
	prefix       string
	publicURL    string
	limits       Limits
	emptyPoll200 bool
	recheck      time.Duration
}

// WithLogger sets the logger for the access log and errors (default
// discard). Keys and secrets are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return errors.New("comnormserver: WithLogger(nil)")
		}
		o.logger = l
		return nil
	}
}

// WithOnError sets a callback for store failures (answered with 500).
func WithOnError(f func(error)) Option {
	return func(o *options) error {
		if f == nil {
			return errors.New("comnormserver: WithOnError(nil)")
		}
		o.onError = f
		return nil
	}
}

// WithPrefix sets the path prefix of the five routes (default "/api", as
// the hosted service).
func WithPrefix(p string) Option {
	return func(o *options) error {
		p = strings.TrimRight(p, "/")
		if p != "" && !strings.HasPrefix(p, "/") {
			return fmt.Errorf("comnormserver: prefix %q must start with /", p)
		}
		o.prefix = p
		return nil
	}
}

// WithPublicURL sets the externally visible base URL (scheme and host, e.g.
// "https://queue.example.com") from which notification URLs are built.
// Without it the server uses the Host of the Create Queue request, which is
// right for tests but wrong behind most proxies.
func WithPublicURL(u string) Option {
	return func(o *options) error {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return fmt.Errorf("comnormserver: public URL %q must be an absolute http(s) URL", u)
		}
		o.publicURL = strings.TrimRight(u, "/")
		return nil
	}
}

// WithLimits sets the limits; zero fields keep their defaults.
func WithLimits(l Limits) Option {
	return func(o *options) error {
		if l.MaxCount < 0 || l.MaxTimeout < 0 || l.MaxQueuesPerPartner < 0 || l.MaxMessagesPerQueue < 0 || l.MaxMessageChars < 0 || l.MaxBodyBytes < 0 {
			return errors.New("comnormserver: negative limit")
		}
		o.limits = l
		return nil
	}
}

// WithEmptyPollOK makes an expired long poll answer 200 with [] instead of
// 408 Request Timeout. The vendor document lists both; 408 is the default.
func WithEmptyPollOK() Option {
	return func(o *options) error { o.emptyPoll200 = true; return nil }
}

// WithRecheckInterval sets how often a waiting peek looks at the store even
// without a wake-up (default 5 s). It bounds the delay when a shared store
// loses a cross-process notification.
func WithRecheckInterval(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return errors.New("comnormserver: recheck interval must be positive")
		}
		o.recheck = d
		return nil
	}
}
