package pgoutbox_test

import (
	"context"
	"log"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/notifykit/notifykit/internal/pgoutbox"
)

// Enqueue in the transaction that caused the notification; every instance
// runs a Worker.
func ExampleWorker() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, "postgres://localhost/app")
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	ob, err := pgoutbox.Open(ctx, pool, "dsgo")
	if err != nil {
		log.Fatal(err)
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		// ... change business data in tx ...
		return ob.Enqueue(ctx, tx, "subscription-1", []byte(`{"event":"changed"}`))
	})
	if err != nil {
		log.Fatal(err)
	}
	w := &pgoutbox.Worker{ID: "instance-a", Outbox: ob, Lease: 2 * time.Minute,
		Deliver: func(ctx context.Context, it pgoutbox.Item) error {
			// POST it.Payload to the subscription's webhook
			return nil
		}}
	_ = w.Run(ctx)
}
