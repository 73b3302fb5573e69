package pgdedupe_test

import (
	"context"
	"log"
	"time"

	"github.com/notifykit/notifykit"
	"github.com/notifykit/notifykit/pgdedupe"
)

// Every consumer instance opens the same database; together they handle
// each event id once per day.
func ExampleOpen() {
	ctx := context.Background()
	store, err := pgdedupe.Open(ctx, "postgres://app@db.internal/app")
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	handler := notifykit.HandlerFunc(func(ctx context.Context, e notifykit.Event) error {
		log.Printf("%s %s", e.Type(), e.Subject())
		return nil
	})
	h := notifykit.Chain(handler, notifykit.Dedupe(store, 24*time.Hour))
	_ = h // pass h to a subscriber or consumer
}
