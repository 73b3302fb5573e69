// Command banqup is the recommended production setup for banqUP's
// RabbitMQ streams: typed handlers, per-entity ordering, validation errors
// routed to the error queue at once, transient errors retried, and
// idempotent writes keyed by entity id.
//
//	BANQUP_AMQP_URL=amqps://user:pass@rabbit.example/vhost BANQUP_QUEUE=myapp-banqup \
//	go run ./examples/banqup
package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/notifykit/notifykit"
	"github.com/notifykit/notifykit/banqup"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, log); err != nil {
		log.Error("banqup stopped", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, log *slog.Logger) error {
	url, queue := os.Getenv("BANQUP_AMQP_URL"), os.Getenv("BANQUP_QUEUE")
	if url == "" || queue == "" {
		return errors.New("set BANQUP_AMQP_URL and BANQUP_QUEUE")
	}
	c, err := banqup.NewConsumer(url, queue,
		banqup.WithOrdering(), // one account's messages in order, accounts in parallel
		banqup.WithMiddleware(notifykit.Recover(), notifykit.Dedupe(nil, 24*time.Hour)),
		banqup.WithLogger(log),
		banqup.WithOnError(func(err error) {
			// Messages in <queue>_error or _skipped wait for an operator.
			log.Error("banqup", "err", err)
		}),
		banqup.WithOnStateChange(func(s banqup.State, err error) { log.Info("banqup connection", "state", s, "err", err) }),
	)
	if err != nil {
		return err
	}
	store := newStore()
	c.OnAccount(func(ctx context.Context, e *banqup.AccountEvent) error {
		if err := e.Message.Validate(); err != nil {
			return notifykit.Permanent(err) // retrying cannot fix it: straight to the error queue
		}
		// Every synchronisation re-sends the account; write by id.
		return store.put(ctx, "account", e.Subject(), e.Message.Data)
	})
	c.OnTransaction(func(ctx context.Context, e *banqup.TransactionEvent) error {
		if err := e.Message.Validate(); err != nil {
			return notifykit.Permanent(err)
		}
		return store.put(ctx, "transaction", e.Message.Data.ID, e.Message.Data)
	})
	c.OnSessionFinished(func(ctx context.Context, e *banqup.SessionFinishedEvent) error {
		log.Info("aggregation finished", "account", e.Subject())
		return nil
	})
	c.OnConsent(func(ctx context.Context, e *banqup.ConsentEvent) error {
		return store.put(ctx, "consent", e.Message.Data.ID, e.Message.Data)
	})
	return c.Run(ctx) // reconnects by itself; nil after Ctrl-C and a drain
}

// store stands for the application's database.
type store struct {
	mu   sync.Mutex
	rows map[string]any
}

func newStore() *store { return &store{rows: map[string]any{}} }

func (s *store) put(ctx context.Context, kind, id string, v any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rows[kind+"/"+id] = v
	return nil
}
