package comnormpg

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/notifykit/notifykit/internal/pgqueue"
	"github.com/notifykit/notifykit/internal/pgtest"
)

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

// Bench owns a private PostgreSQL cluster (or uses dsn) for repeated runs.
type Bench struct {
	cfg   Config
	srv   *pgtest.Server // nil when an external server is used
	admin string
}

// New starts a private cluster; Close stops it.
func New(ctx context.Context, cfg Config) (*Bench, error) {
	cfg.defaults()
	srv, err := pgtest.Start(ctx)
	if err != nil {
		return nil, err
	}
	return &Bench{cfg: cfg, srv: srv, admin: srv.URL}, nil
}

// Close stops the cluster.
func (b *Bench) Close() error {
	if b.srv != nil {
		return b.srv.Close()
	}
	return nil
}

// Rate runs the workload through n instances on a fresh database and
// returns messages per second (posted, peeked and deleted).
func (b *Bench) Rate(ctx context.Context, n int) (float64, error) {
	if n < 1 {
		return 0, errors.New("comnormpg: need at least one instance")
	}
	_, dsn, err := b.srv.CreateDatabase(ctx)
	if err != nil {
		return 0, err
	}
	inst := make([]*pgqueue.Store, n)
	for i := range inst {
		cfg, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			return 0, err
		}
		cfg.MaxConns = int32(b.cfg.PoolSize)
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return 0, err
		}
		defer pool.Close()
		s, err := pgqueue.Open(ctx, pool, pgqueue.Config{})
		if err != nil {
			return 0, err
		}
		defer s.Close()
		inst[i] = s
	}
	for q := range b.cfg.Queues {
		if err := inst[0].CreateQueue(ctx, pgqueue.Queue{ID: fmt.Sprint("q", q), Owner: "bench", Secret: []byte("s")}, 0); err != nil {
			return 0, err
		}
	}
	return b.run(ctx, inst)
}

func (b *Bench) run(ctx context.Context, inst []*pgqueue.Store) (float64, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	body := []byte(`{"event":"articleSelected","article":"4711","quantity":1}`)
	var deleted atomic.Int64
	total := int64(b.cfg.Queues * b.cfg.Messages)
	var wg sync.WaitGroup
	start := time.Now()
	for q := range b.cfg.Queues {
		queue := fmt.Sprint("q", q)
		// Sender and consumer of one queue sit on different instances when
		// there are two, as behind a load balancer.
		sender, consumer := inst[q%len(inst)], inst[(q+1)%len(inst)]
		wg.Go(func() {
			for i := range b.cfg.Messages {
				if err := sender.Post(ctx, queue, pgqueue.Message{ID: fmt.Sprint(i), Content: body}, 0); err != nil {
					cancel(err)
					return
				}
			}
		})
		wg.Go(func() {
			for got := 0; got < b.cfg.Messages; {
				msgs, err := consumer.Peek(ctx, queue, 10, 5*time.Second)
				if err != nil {
					cancel(err)
					return
				}
				for _, m := range msgs {
					ok, err := consumer.DeleteMessage(ctx, queue, m.ID)
					if err != nil {
						cancel(err)
						return
					}
					if ok {
						got++
						deleted.Add(1)
					}
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return 0, err
	}
	if n := deleted.Load(); n != total {
		return 0, fmt.Errorf("comnormpg: %d of %d messages deleted", n, total)
	}
	return float64(total) / time.Since(start).Seconds(), nil
}
