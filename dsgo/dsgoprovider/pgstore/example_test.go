package pgstore_test

import (
	"context"
	"log"
	"time"

	"github.com/notifykit/notifykit/dsgo/dsgoprovider/pgstore"
)

// Every provider instance opens the same database; their dispatchers then
// share one outbox.
func ExampleOpen() {
	ctx := context.Background()
	store, err := pgstore.Open(ctx, "postgres://dsgo@db.internal/dsgo")
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	due, err := store.ClaimDeliveries(ctx, time.Now(), 2*time.Minute, 10)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("%d deliveries claimed", len(due))
}
