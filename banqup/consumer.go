package banqup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/notifykit/notifykit"
	"github.com/notifykit/notifykit/internal/backoff"
)

// Consumer consumes banqUP's streams from one durable RabbitMQ queue and
// settles every delivery: ack after the handler succeeded, or a confirmed
// copy in the _error or _skipped queue and then ack. Register handlers,
// then call Run. See the package documentation for the guarantees.
type Consumer struct {
	url       string
	queue     string
	inputAddr string
	o         options
	host      amqp.Table

	mu      sync.Mutex
	typed   map[Stream]notifykit.Handler
	running bool
}

// NewConsumer returns a consumer of queue on the broker at amqpURL
// (amqp://user:pass@host:port/vhost or amqps://…). It does not connect;
// Run does.
func NewConsumer(amqpURL, queue string, opts ...Option) (*Consumer, error) {
	uri, err := amqp.ParseURI(amqpURL)
	if err != nil {
		return nil, fmt.Errorf("banqup: invalid AMQP URL: %w", err) // ParseURI's errors do not echo the password
	}
	if strings.TrimSpace(queue) == "" {
		return nil, errors.New("banqup: empty queue name")
	}
	o := defaultOptions()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if o.concurrency > o.prefetch {
		o.concurrency = o.prefetch
	}
	vhost := uri.Vhost
	if vhost == "/" {
		vhost = ""
	}
	host := uri.Host
	if uri.Port != 5672 && uri.Port != 5671 && uri.Port != 0 {
		host = net.JoinHostPort(uri.Host, strconv.Itoa(uri.Port))
	}
	input := (&url.URL{Scheme: "rabbitmq", Host: host, Path: "/" + strings.TrimPrefix(vhost+"/"+queue, "/")}).String()
	return &Consumer{url: amqpURL, queue: queue, inputAddr: input, o: o, host: hostHeaders(),
		typed: map[Stream]notifykit.Handler{}}, nil
}

// typedHandler adapts a typed handler to notifykit.Handler so middlewares
// apply to typed and generic handlers alike.
func typedHandler[E Event](h func(context.Context, E) error) notifykit.Handler {
	return notifykit.HandlerFunc(func(ctx context.Context, e notifykit.Event) error {
		te, ok := e.(E)
		if !ok {
			return notifykit.Permanent(fmt.Errorf("banqup: a middleware replaced the event with %T", e))
		}
		return h(ctx, te)
	})
}

func (c *Consumer) register(s Stream, h notifykit.Handler) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.typed[s] = h
}

// OnAccount handles the account stream. Register before Run; a later
// registration for the same stream replaces the earlier one.
func (c *Consumer) OnAccount(h func(ctx context.Context, e *AccountEvent) error) {
	c.register(StreamAccount, typedHandler(h))
}

// OnTransaction handles the transaction stream.
func (c *Consumer) OnTransaction(h func(ctx context.Context, e *TransactionEvent) error) {
	c.register(StreamTransaction, typedHandler(h))
}

// OnSessionFinished handles the session-finished stream.
func (c *Consumer) OnSessionFinished(h func(ctx context.Context, e *SessionFinishedEvent) error) {
	c.register(StreamSessionFinished, typedHandler(h))
}

// OnConsent handles the consent stream.
func (c *Consumer) OnConsent(h func(ctx context.Context, e *ConsentEvent) error) {
	c.register(StreamConsent, typedHandler(h))
}

// OnAspspCall handles the ASPSP-call stream.
func (c *Consumer) OnAspspCall(h func(ctx context.Context, e *AspspCallEvent) error) {
	c.register(StreamAspspCall, typedHandler(h))
}

// routes is the immutable handler table one Run uses.
type routes struct {
	handlers map[Stream]notifykit.Handler
	streams  []Stream
}

func (c *Consumer) routes() (*routes, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := &routes{handlers: map[Stream]notifykit.Handler{}}
	for _, s := range Streams() {
		h := c.typed[s]
		if h == nil {
			h = c.o.generic
		}
		if h == nil {
			continue
		}
		r.handlers[s] = notifykit.Chain(h, c.o.middleware...)
		r.streams = append(r.streams, s)
	}
	if c.o.streams != nil {
		r.streams = c.o.streams
	}
	if len(r.handlers) == 0 {
		return nil, fmt.Errorf("%w: register a handler (OnTransaction, WithHandler, …) before Run", ErrNoHandler)
	}
	return r, nil
}

// Run connects, declares the topology, and consumes until ctx ends or a
// permanent error occurs. A lost connection or channel is re-established
// with jittered backoff, the topology redeclared and consumption resumed;
// deliveries of the lost channel are never acked (the broker redelivers
// them).
//
// When ctx ends, Run stops consuming, lets in-flight handlers finish
// (bounded by WithShutdownTimeout), acks what succeeded, closes the
// connections and returns nil. It returns an error matching ErrTopology or
// ErrAccessRefused when the broker rejects the configuration, and
// ErrNoHandler when nothing is registered. Run may be called again after
// it returned, but not concurrently.
func (c *Consumer) Run(ctx context.Context) error {
	r, err := c.routes()
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.running {
		c.mu.Unlock()
		return errors.New("banqup: Run is already running")
	}
	c.running = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.running = false
		c.mu.Unlock()
	}()

	log := c.o.logger.With("queue", c.queue)
	for attempt := 0; ; {
		c.state(StateConnecting, nil)
		consumed, err := c.session(ctx, r)
		if ctx.Err() != nil {
			c.state(StateStopped, nil)
			return nil
		}
		if isPermanent(err) {
			c.state(StateStopped, err)
			log.Error("banqup: consumer stopped", "err", err)
			return err
		}
		// Only a session that ran for a while resets the backoff: one that
		// fails right after it started (an error queue that cannot take a
		// copy, say) must not reconnect in a tight loop.
		if consumed > stableSession {
			attempt = 0
		}
		attempt++
		delay := c.o.reconnect(attempt)
		level := slog.LevelWarn
		if attempt > 1 {
			level = slog.LevelInfo // the first failure was logged as a warning
		}
		log.Log(ctx, level, "banqup: connection lost, reconnecting", "err", err, "attempt", attempt, "delay", delay)
		c.o.onError(fmt.Errorf("banqup: connection lost (reconnecting in %v): %w", delay, err))
		c.state(StateDisconnected, err)
		if backoff.Sleep(ctx, delay) != nil {
			c.state(StateStopped, nil)
			return nil
		}
	}
}

// stableSession is how long a session must have consumed for its end to
// count as a fresh failure rather than another failed attempt.
const stableSession = 30 * time.Second

func (c *Consumer) state(s State, err error) {
	c.o.logger.Debug("banqup: state", "queue", c.queue, "state", s.String(), "err", err)
	c.o.onState(s, err)
}
