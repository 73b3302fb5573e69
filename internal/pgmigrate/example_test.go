package pgmigrate_test

import (
	"context"
	"log"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/notifykit/notifykit/internal/pgmigrate"
)

// A store lists its migrations once, append-only, and applies them on start.
func ExampleApply() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, "postgres://localhost/app")
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	_, err = pgmigrate.Apply(ctx, pool, "mystore", []string{
		`CREATE TABLE IF NOT EXISTS mystore_items (id text PRIMARY KEY)`,
		`ALTER TABLE mystore_items ADD COLUMN IF NOT EXISTS created timestamptz NOT NULL DEFAULT now()`,
	})
	if err != nil {
		log.Fatal(err)
	}
}
