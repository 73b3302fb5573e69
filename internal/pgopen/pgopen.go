// Package pgopen holds the one way our PostgreSQL stores open a pool of
// their own from a DSN, so the close-on-failure rule lives in one place.
package pgopen

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Owned connects to dsn and builds a store on the new pool with newStore.
// When newStore fails the pool is closed, so a failed Open leaks no
// connections; on success the store owns the pool. name prefixes the
// connection error ("pgdedupe: ...").
func Owned[S any](ctx context.Context, name, dsn string, newStore func(context.Context, *pgxpool.Pool) (S, error)) (S, error) {
	var zero S
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return zero, fmt.Errorf("%s: %w", name, err)
	}
	s, err := newStore(ctx, pool)
	if err != nil {
		pool.Close()
		return zero, err
	}
	return s, nil
}
