package banqup

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/notifykit/notifykit"
	"github.com/notifykit/notifykit/internal/backoff"
)

// Defaults. Prefetch and concurrency were chosen with the banqup-consume
// benchmark (see doc.go).
const (
	DefaultPrefetch        = 128
	DefaultConcurrency     = 8
	DefaultMaxAttempts     = 3
	DefaultHandlerTimeout  = 5 * time.Minute // well below RabbitMQ's 30 min consumer_timeout
	DefaultShutdownTimeout = 30 * time.Second
)

// Option configures a Consumer. Options validate their arguments and make
// NewConsumer fail on bad ones.
type Option func(*options) error

// State is the consumer's connection state, reported to WithOnStateChange.
type State int

// Connection states.
const (
	// StateConnecting: dialling, declaring topology, starting to consume.
	StateConnecting State = iota
	// StateConsuming: connected and receiving deliveries.
	StateConsuming
	// StateDisconnected: the connection or channel was lost; a reconnect
	// follows after a backoff delay.
	StateDisconnected
	// StateStopped: Run is returning.
	StateStopped
)

// String names the state for logs.
func (s State) String() string {
	switch s {
	case StateConnecting:
		return "connecting"
	case StateConsuming:
		return "consuming"
	case StateDisconnected:
		return "disconnected"
	case StateStopped:
		return "stopped"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

type options struct {
	logger          *slog.Logger
	onError         func(error)
	onState         func(State, error)
	generic         notifykit.Handler
	middleware      []notifykit.Middleware
	maxAttempts     int
	retryBackoff    backoff.Func
	reconnect       backoff.Func
	prefetch        int
	concurrency     int
	ordered         bool
	streams         []Stream
	passive         bool
	queueArgs       amqp.Table
	tls             *tls.Config
	heartbeat       time.Duration
	handlerTimeout  time.Duration
	shutdownTimeout time.Duration
	confirmTimeout  time.Duration
}

func defaultOptions() options {
	return options{
		logger:          slog.New(slog.DiscardHandler),
		onError:         func(error) {},
		onState:         func(State, error) {},
		maxAttempts:     DefaultMaxAttempts,
		retryBackoff:    backoff.Exponential(200*time.Millisecond, 5*time.Second),
		reconnect:       backoff.Exponential(250*time.Millisecond, 15*time.Second),
		prefetch:        DefaultPrefetch,
		concurrency:     DefaultConcurrency,
		heartbeat:       10 * time.Second,
		handlerTimeout:  DefaultHandlerTimeout,
		shutdownTimeout: DefaultShutdownTimeout,
		confirmTimeout:  30 * time.Second,
	}
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return errors.New("banqup: WithLogger(nil)")
		}
		o.logger = l
		return nil
	}
}

// WithOnError receives asynchronous failures: messages moved to the error
// or skipped queue (*HandlerError, *DecodeError), failed settlements and
// lost connections. It must not block for long.
func WithOnError(f func(error)) Option {
	return func(o *options) error {
		if f == nil {
			return errors.New("banqup: WithOnError(nil)")
		}
		o.onError = f
		return nil
	}
}

// WithOnStateChange is called on every connection state change, with the
// cause for StateDisconnected.
func WithOnStateChange(f func(State, error)) Option {
	return func(o *options) error {
		if f == nil {
			return errors.New("banqup: WithOnStateChange(nil)")
		}
		o.onState = f
		return nil
	}
}

// WithHandler sets a generic handler for every stream that has no typed
// handler (OnAccount, OnTransaction, …). The event is one of the *…Event
// types; switch on it or use the banqup.Event interface.
func WithHandler(h notifykit.Handler) Option {
	return func(o *options) error {
		if h == nil {
			return errors.New("banqup: WithHandler(nil)")
		}
		o.generic = h
		return nil
	}
}

// WithMiddleware wraps every handler, typed or generic; the first
// middleware is the outermost.
func WithMiddleware(mws ...notifykit.Middleware) Option {
	return func(o *options) error {
		for _, m := range mws {
			if m == nil {
				return errors.New("banqup: WithMiddleware(nil)")
			}
		}
		o.middleware = append(o.middleware, mws...)
		return nil
	}
}

// WithRetry sets the in-process retry policy: a failing handler runs at
// most maxAttempts times, waiting b(n) before retry n (n = 1, 2, …), before
// the message moves to the error queue. maxAttempts 1 disables retries. A
// nil b keeps the default jittered exponential backoff (200 ms .. 5 s).
// Errors marked with notifykit.Permanent skip the retries.
func WithRetry(maxAttempts int, b func(attempt int) time.Duration) Option {
	return func(o *options) error {
		if maxAttempts < 1 {
			return fmt.Errorf("banqup: WithRetry: maxAttempts %d < 1", maxAttempts)
		}
		o.maxAttempts = maxAttempts
		if b != nil {
			o.retryBackoff = b
		}
		return nil
	}
}

// WithReconnectBackoff sets the delay before reconnect attempt n (default:
// jittered exponential, 250 ms .. 15 s).
func WithReconnectBackoff(b func(attempt int) time.Duration) Option {
	return func(o *options) error {
		if b == nil {
			return errors.New("banqup: WithReconnectBackoff(nil)")
		}
		o.reconnect = b
		return nil
	}
}

// WithPrefetch sets the AMQP prefetch count: how many unacknowledged
// deliveries the broker hands this consumer (default DefaultPrefetch).
func WithPrefetch(n int) Option {
	return func(o *options) error {
		if n < 1 || n > 65535 {
			return fmt.Errorf("banqup: WithPrefetch(%d): want 1..65535", n)
		}
		o.prefetch = n
		return nil
	}
}

// WithConcurrency sets how many handlers run at once (default
// DefaultConcurrency). It is capped at the prefetch count.
func WithConcurrency(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("banqup: WithConcurrency(%d): want >= 1", n)
		}
		o.concurrency = n
		return nil
	}
}

// WithOrdering handles the messages of one entity in delivery order while
// different entities run in parallel. The entity is the account for
// account, transaction and session messages, the consent for consent
// messages, the APIHub session for ASPSP calls. Retries of one message hold
// back the later messages of its entity.
func WithOrdering() Option {
	return func(o *options) error { o.ordered = true; return nil }
}

// WithStreams subscribes to these streams only. By default the consumer
// binds the streams that have a typed handler, or all five when a generic
// handler is set.
func WithStreams(streams ...Stream) Option {
	return func(o *options) error {
		if len(streams) == 0 {
			return errors.New("banqup: WithStreams: no streams")
		}
		for _, s := range streams {
			if !s.Valid() {
				return fmt.Errorf("banqup: WithStreams: unknown stream %q", s)
			}
		}
		o.streams = append([]Stream(nil), streams...)
		return nil
	}
}

// WithPassiveTopology declares nothing: the queue, its _error and _skipped
// queues and exchanges must exist (an operator or MassTransit created
// them), and Run fails with ErrTopology when they do not. Bindings are left
// as they are.
func WithPassiveTopology() Option {
	return func(o *options) error { o.passive = true; return nil }
}

// WithQueueArguments sets the x-arguments used when declaring the queue and
// its _error and _skipped queues, e.g. {"x-queue-type": "quorum"}. They
// must match an existing queue's arguments or RabbitMQ answers 406.
func WithQueueArguments(args amqp.Table) Option {
	return func(o *options) error {
		if err := args.Validate(); err != nil {
			return fmt.Errorf("banqup: WithQueueArguments: %w", err)
		}
		o.queueArgs = args
		return nil
	}
}

// WithTLS sets the TLS configuration for amqps:// URLs.
func WithTLS(c *tls.Config) Option {
	return func(o *options) error {
		if c == nil {
			return errors.New("banqup: WithTLS(nil)")
		}
		o.tls = c
		return nil
	}
}

// WithHeartbeat sets the AMQP heartbeat interval (default 10 s), which
// bounds how long a dead TCP connection goes unnoticed.
func WithHeartbeat(d time.Duration) Option {
	return func(o *options) error {
		if d < time.Second {
			return fmt.Errorf("banqup: WithHeartbeat(%v): want >= 1s", d)
		}
		o.heartbeat = d
		return nil
	}
}

// WithHandlerTimeout bounds one handler call (default 5 min). Keep it well
// below the broker's consumer_timeout (30 min by default), which closes the
// channel when an ack is late.
func WithHandlerTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("banqup: WithHandlerTimeout(%v): want > 0", d)
		}
		o.handlerTimeout = d
		return nil
	}
}

// WithShutdownTimeout bounds how long Run waits for in-flight handlers
// after its context ends (default 30 s); then their contexts are cancelled
// and unfinished messages are left to the broker, which redelivers them.
func WithShutdownTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("banqup: WithShutdownTimeout(%v): want > 0", d)
		}
		o.shutdownTimeout = d
		return nil
	}
}
