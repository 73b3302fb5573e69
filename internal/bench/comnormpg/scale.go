package comnormpg

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/notifykit/notifykit/comnorm"
	"github.com/notifykit/notifykit/comnorm/comnormserver"
	"github.com/notifykit/notifykit/comnorm/comnormserver/pgstore"
	"github.com/notifykit/notifykit/internal/pgtest"
)

const partnerKey = "comnorm-pg-scale-bench-partner-key"

// Config sizes a run; the zero value means the defaults.
type Config struct {
	Queues   int // default 8
	Messages int // per queue, default 250
	PoolSize int // connections per instance, default 4
}

func (c *Config) defaults() {
	if c.Queues <= 0 {
		c.Queues = 8
	}
	if c.Messages <= 0 {
		c.Messages = 250
	}
	if c.PoolSize <= 0 {
		c.PoolSize = 4
	}
}

// Bench owns a private PostgreSQL cluster for repeated runs.
type Bench struct {
	cfg Config
	srv *pgtest.Server
}

// New starts a private cluster; Close stops it. It fails with an error
// matching pgtest.ErrNoBinaries when PostgreSQL is not installed.
func New(ctx context.Context, cfg Config) (*Bench, error) {
	cfg.defaults()
	srv, err := pgtest.Start(ctx)
	if err != nil {
		return nil, err
	}
	return &Bench{cfg: cfg, srv: srv}, nil
}

// Close stops the cluster and removes its files, the initdb template
// included.
func (b *Bench) Close() error {
	err := b.srv.Close()
	pgtest.RemoveTemplate()
	return err
}

// Rate runs the workload through n server instances and returns messages
// per second (each posted, peeked and deleted).
func (b *Bench) Rate(ctx context.Context, n int) (float64, error) {
	count, d, err := b.Run(ctx, n)
	if err != nil {
		return 0, err
	}
	return float64(count) / d.Seconds(), nil
}

// Run runs the workload through n server instances on a fresh database and
// returns how many messages went through and how long that took (set-up
// excluded).
func (b *Bench) Run(ctx context.Context, n int) (int, time.Duration, error) {
	if n < 1 {
		return 0, 0, errors.New("comnormpg: need at least one instance")
	}
	_, dsn, err := b.srv.CreateDatabase(ctx)
	if err != nil {
		return 0, 0, err
	}
	bases := make([]string, n)
	for i := range bases {
		base, stop, err := b.instance(ctx, dsn)
		if err != nil {
			return 0, 0, err
		}
		defer stop()
		bases[i] = base
	}
	return b.run(ctx, bases)
}

// instance starts one server as a deployment would run it: its own pool,
// LISTEN connection and HTTP listener.
func (b *Bench) instance(ctx context.Context, dsn string) (base string, stop func(), err error) {
	pcfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return "", nil, err
	}
	pcfg.MaxConns = int32(b.cfg.PoolSize)
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return "", nil, err
	}
	store, err := pgstore.NewStore(ctx, pool)
	if err != nil {
		pool.Close()
		return "", nil, err
	}
	keys, err := comnormserver.NewStaticKeys(map[string]string{"bench": partnerKey})
	if err != nil {
		return "", nil, err
	}
	h, err := comnormserver.New(store, keys)
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	return "http://" + ln.Addr().String() + "/api", func() {
		h.Close()
		_ = hs.Close()
		_ = store.Close()
		pool.Close()
	}, nil
}

func (b *Bench) run(ctx context.Context, bases []string) (int, time.Duration, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	snd, err := comnorm.NewSender()
	if err != nil {
		return 0, 0, err
	}
	clients := make([]*comnorm.Client, len(bases))
	for i, base := range bases {
		if clients[i], err = comnorm.NewClient(partnerKey, comnorm.WithBaseURL(base)); err != nil {
			return 0, 0, err
		}
	}
	body := []byte(`{"event":"articleSelected","article":"4711","quantity":1}`)
	var deleted atomic.Int64
	total := int64(b.cfg.Queues * b.cfg.Messages)
	queues := make([]*comnorm.Queue, b.cfg.Queues)
	for q := range queues {
		if queues[q], err = clients[(q+1)%len(bases)].CreateQueue(ctx); err != nil {
			return 0, 0, err
		}
	}
	var wg sync.WaitGroup
	start := time.Now()
	for q, queue := range queues {
		// With two instances a queue's sender and consumer talk to
		// different ones, as behind a load balancer.
		si, ci := q%len(bases), (q+1)%len(bases)
		postURL := bases[si] + "/queues/" + queue.ID + "/messages"
		wg.Go(func() {
			for range b.cfg.Messages {
				if err := snd.Post(ctx, postURL, queue.NotificationSecret, body); err != nil {
					cancel(err)
					return
				}
			}
		})
		wg.Go(func() {
			c := clients[ci]
			for got := 0; got < b.cfg.Messages; {
				msgs, err := c.Peek(ctx, queue.ID, comnorm.PeekOptions{Count: 10, Timeout: 5 * time.Second})
				if err != nil {
					cancel(err)
					return
				}
				for _, m := range msgs {
					if err := c.DeleteMessage(ctx, queue.ID, m.ID); err != nil {
						cancel(err)
						return
					}
					got++
					deleted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := context.Cause(ctx); err != nil {
		return 0, 0, fmt.Errorf("comnormpg: %w", err)
	}
	if n := deleted.Load(); n != total {
		return 0, 0, fmt.Errorf("comnormpg: %d of %d messages deleted", n, total)
	}
	return int(total), elapsed, nil
}
