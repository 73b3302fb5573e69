package pglisten

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/notifykit/notifykit/internal/backoff"
)

// publishLinger is the least time between two sends. The first key after
// a quiet spell goes out at once; under load the keys of this window share
// one transaction, so the database and every instance's listener handle a
// few hundred notifications a second instead of one per write, for at
// most this much extra wake-up latency.
const publishLinger = 2 * time.Millisecond

// Publisher sends notifications after the writer's commit, from a
// connection of its own, batching the keys that pile up while a send is
// under way.
//
// Why not NOTIFY inside the writer's transaction: PostgreSQL serialises
// the commits of all notifying transactions in a database on one lock and
// holds it until the commit record is flushed, so every notifying commit
// pays a WAL fsync alone, one after the other, and group commit never
// happens for them. The Publisher's connection commits asynchronously
// (synchronous_commit=off: a wake-up hint needs no fsync), so the lock is
// held for microseconds and one notification transaction carries every key
// committed meanwhile.
//
// The price: a waiter on another instance learns of a commit one short
// round trip later, and if the writer's process dies between its commit
// and the send, not at all; the callers' bounded fallback poll covers
// that, as it covers a lost listener connection.
type Publisher struct {
	cfg     *pgx.ConnConfig
	channel string
	log     *slog.Logger
	onError func(error)
	retry   backoff.Func
	linger  time.Duration

	mu      sync.Mutex
	pending map[string]struct{}
	kick    chan struct{} // buffer 1: "pending is not empty"
	pid     atomic.Uint32 // backend pid of the current connection, 0 if none

	cancel context.CancelFunc
	done   chan struct{}
}

// NewPublisher starts a Publisher on channel; it connects on first use
// with cfg. logger and onError may be nil. Close stops it.
func NewPublisher(cfg *pgx.ConnConfig, channel string, logger *slog.Logger, onError func(error)) *Publisher {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if onError == nil {
		onError = func(error) {}
	}
	c := cfg.Copy()
	if c.RuntimeParams == nil {
		c.RuntimeParams = map[string]string{}
	}
	c.RuntimeParams["synchronous_commit"] = "off"
	ctx, cancel := context.WithCancel(context.Background())
	p := &Publisher{
		cfg:     c,
		channel: channel,
		log:     logger,
		onError: onError,
		retry:   backoff.Exponential(100*time.Millisecond, 5*time.Second),
		linger:  publishLinger,
		pending: make(map[string]struct{}),
		kick:    make(chan struct{}, 1),
		cancel:  cancel,
		done:    make(chan struct{}),
	}
	go p.run(ctx)
	return p
}

// Publish queues key for the next send and returns at once.
func (p *Publisher) Publish(key string) {
	p.mu.Lock()
	p.pending[key] = struct{}{}
	p.mu.Unlock()
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// PID is the backend process id of the Publisher's current connection (0
// while it has none): a Listener in the same process may ignore
// notifications from it, having woken its own subscribers directly.
func (p *Publisher) PID() uint32 { return p.pid.Load() }

// Close stops the Publisher after one last attempt (of at most a second)
// to send what is pending.
func (p *Publisher) Close() error {
	p.cancel()
	<-p.done
	return nil
}

func (p *Publisher) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	keys := make([]string, 0, len(p.pending))
	for k := range p.pending {
		keys = append(keys, k)
	}
	clear(p.pending)
	return keys
}

func (p *Publisher) putBack(keys []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, k := range keys {
		p.pending[k] = struct{}{}
	}
}

func (p *Publisher) run(ctx context.Context) {
	defer close(p.done)
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			_ = conn.Close(context.Background())
		}
	}()
	for attempt := 0; ; {
		select {
		case <-p.kick:
		case <-ctx.Done():
			// Best effort: waiters elsewhere would otherwise sit until
			// their fallback poll.
			if keys := p.take(); len(keys) > 0 && conn != nil {
				fctx, cancel := context.WithTimeout(context.Background(), time.Second)
				_ = p.send(fctx, conn, keys)
				cancel()
			}
			return
		}
		keys := p.take()
		if len(keys) == 0 {
			continue
		}
		var err error
		if conn == nil {
			conn, err = p.connect(ctx)
		}
		if err == nil {
			err = p.send(ctx, conn, keys)
		}
		if err == nil {
			attempt = 0
			_ = backoff.Sleep(ctx, p.linger) // on ctx end, the select above flushes
			continue
		}
		if ctx.Err() != nil {
			return
		}
		if conn != nil {
			_ = conn.Close(context.Background())
			conn = nil
			p.pid.Store(0)
		}
		err = fmt.Errorf("pglisten %s: publish: %w", p.channel, err)
		p.log.Warn("pglisten: could not publish, retrying", "channel", p.channel, "err", err)
		p.onError(err)
		p.putBack(keys)
		select {
		case p.kick <- struct{}{}:
		default:
		}
		if backoff.Sleep(ctx, p.retry(attempt)) != nil {
			return
		}
		attempt++
	}
}

func (p *Publisher) connect(ctx context.Context) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, p.cfg)
	if err != nil {
		return nil, err
	}
	p.pid.Store(conn.PgConn().PID())
	return conn, nil
}

// send notifies every key in one statement, hence one transaction.
func (p *Publisher) send(ctx context.Context, conn *pgx.Conn, keys []string) error {
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := conn.Exec(sctx, `SELECT pg_notify($1, k) FROM unnest($2::text[]) AS k`, p.channel, keys)
	return err
}
