package pglisten

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/notifykit/notifykit/internal/backoff"
)

// idleCheck is how long the connection may be silent before a ping
// verifies it is alive.
var idleCheck = 30 * time.Second // a var for tests; read once per Listener

// Listener dispatches notifications on one channel to subscribers by key.
type Listener struct {
	cfg     *pgx.ConnConfig
	channel string
	log     *slog.Logger
	onError func(error)
	retry   backoff.Func
	idle    time.Duration

	mu    sync.Mutex
	subs  map[string]map[chan struct{}]struct{}
	ready chan struct{} // closed once the first LISTEN is active
	isUp  bool

	cancel context.CancelFunc
	done   chan struct{}
}

// New starts a Listener on channel with its own connection built from cfg.
// logger and onError may be nil. Close stops it.
func New(cfg *pgx.ConnConfig, channel string, logger *slog.Logger, onError func(error)) *Listener {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if onError == nil {
		onError = func(error) {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &Listener{
		cfg:     cfg.Copy(),
		channel: channel,
		log:     logger,
		onError: onError,
		retry:   backoff.Exponential(100*time.Millisecond, 5*time.Second),
		idle:    idleCheck,
		subs:    make(map[string]map[chan struct{}]struct{}),
		ready:   make(chan struct{}),
		cancel:  cancel,
		done:    make(chan struct{}),
	}
	go l.run(ctx)
	return l
}

// WaitReady blocks until the listener has LISTENed once, so that no
// notification committed afterwards is missed.
func (l *Listener) WaitReady(ctx context.Context) error {
	select {
	case <-l.ready:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("pglisten: not listening yet: %w", ctx.Err())
	}
}

// Subscribe returns a channel that receives a value (coalesced: buffer of
// one) whenever key is notified and whenever the listener reconnects, and
// a function that ends the subscription.
func (l *Listener) Subscribe(key string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	l.mu.Lock()
	set := l.subs[key]
	if set == nil {
		set = make(map[chan struct{}]struct{})
		l.subs[key] = set
	}
	set[ch] = struct{}{}
	l.mu.Unlock()
	return ch, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(l.subs[key], ch)
		if len(l.subs[key]) == 0 {
			delete(l.subs, key)
		}
	}
}

// Connected reports whether the listener currently holds a LISTENing
// connection.
func (l *Listener) Connected() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.isUp
}

// Close stops the listener and waits for its goroutine.
func (l *Listener) Close() error {
	l.cancel()
	<-l.done
	return nil
}

// Execer is a pool, connection or transaction.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Notify sends key on channel through q; inside a transaction it is
// delivered when (and only if) the transaction commits.
func Notify(ctx context.Context, q Execer, channel, key string) error {
	_, err := q.Exec(ctx, "SELECT pg_notify($1, $2)", channel, key)
	return err
}

func (l *Listener) run(ctx context.Context) {
	defer close(l.done)
	for attempt := 0; ; attempt++ {
		err := l.session(ctx)
		l.setUp(false)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			err = fmt.Errorf("pglisten %s: %w", l.channel, err)
			l.log.Warn("pglisten: connection lost, reconnecting", "channel", l.channel, "err", err)
			l.onError(err)
		}
		if backoff.Sleep(ctx, l.retry(attempt)) != nil {
			return
		}
	}
}

// session connects, LISTENs, wakes everyone (notifications may have been
// missed while disconnected) and dispatches until the connection fails.
func (l *Listener) session(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.ConnectConfig(cctx, l.cfg)
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{l.channel}.Sanitize()); err != nil {
		return err
	}
	// Wake before reporting ready, so that a caller that subscribes after
	// WaitReady sees no spurious wake-up from the first connect.
	l.wakeAll()
	l.setUp(true)
	for {
		wctx, cancel := context.WithTimeout(ctx, l.idle)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			l.wake(n.Payload)
		case ctx.Err() != nil:
			return nil
		case (errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err)) && !conn.IsClosed():
			// Idle for l.idle: make sure the session is still there.
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return fmt.Errorf("idle ping: %w", err)
			}
		default:
			return err
		}
	}
}

func (l *Listener) setUp(up bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.isUp = up
	if up {
		select {
		case <-l.ready:
		default:
			close(l.ready)
		}
	}
}

// Wake wakes key's local subscribers now, without the round trip through
// the database; writers call it after their commit so that waiters on
// their own instance react at once (the NOTIFY still reaches the others).
func (l *Listener) Wake(key string) { l.wake(key) }

func (l *Listener) wake(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for ch := range l.subs[key] {
		signal(ch)
	}
}

func (l *Listener) wakeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, set := range l.subs {
		for ch := range set {
			signal(ch)
		}
	}
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default: // a wake-up is already pending; one is enough
	}
}
