package pgdedupe

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/notifykit/notifykit"
	"github.com/notifykit/notifykit/internal/pgmigrate"
	"github.com/notifykit/notifykit/internal/pgopen"
)

var _ notifykit.DedupeStore = (*Store)(nil)

// Store is a notifykit.DedupeStore in a PostgreSQL table. It is safe for
// concurrent use, also by many processes on one table.
type Store struct {
	pool  *pgxpool.Pool
	owned bool
	opts  options

	claimSQL, commitSQL, releaseSQL, cleanupSQL string

	nextCleanup atomic.Int64 // unix nanos; 0 = not before the first claim
}

// Open connects to the database at dsn (a postgres:// URL or key=value
// string) and returns a Store that owns the pool; Close it.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	s, err := pgopen.Owned(ctx, "pgdedupe", dsn, func(ctx context.Context, pool *pgxpool.Pool) (*Store, error) {
		return NewStore(ctx, pool, opts...)
	})
	if err != nil {
		return nil, err
	}
	s.owned = true
	return s, nil
}

// NewStore returns a Store on pool, creating or migrating its table. The
// pool stays the caller's.
func NewStore(ctx context.Context, pool *pgxpool.Pool, opts ...Option) (*Store, error) {
	if pool == nil {
		return nil, fmt.Errorf("%w: nil pool", ErrInvalidOption)
	}
	o := defaultOptions()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	s := &Store{pool: pool, opts: o}
	table := pgx.Identifier(o.table).Sanitize()
	if _, err := pgmigrate.Apply(ctx, pool, "pgdedupe:"+strings.Join(o.table, "."), migrations(table, o.table[len(o.table)-1])); err != nil {
		return nil, fmt.Errorf("pgdedupe: %w", err)
	}
	// Durations travel as microseconds, PostgreSQL's interval resolution.
	s.claimSQL = `INSERT INTO ` + table + ` AS d (id, expires_at)
		VALUES ($1, clock_timestamp() + $2::bigint * interval '1 microsecond')
		ON CONFLICT (id) DO UPDATE SET expires_at = EXCLUDED.expires_at
		WHERE d.expires_at <= clock_timestamp()
		RETURNING true`
	s.commitSQL = `INSERT INTO ` + table + ` AS d (id, expires_at)
		VALUES ($1, clock_timestamp() + $2::bigint * interval '1 microsecond')
		ON CONFLICT (id) DO UPDATE SET expires_at = EXCLUDED.expires_at`
	s.releaseSQL = `DELETE FROM ` + table + ` WHERE id = $1`
	// SKIP LOCKED: instances cleaning at the same time split the work
	// instead of queueing behind each other.
	s.cleanupSQL = `DELETE FROM ` + table + ` WHERE id IN (
		SELECT id FROM ` + table + ` WHERE expires_at <= clock_timestamp()
		ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED)`
	return s, nil
}

// migrations is append-only: never change a shipped step, add one.
func migrations(table, bare string) []string {
	index := pgx.Identifier{bare + "_expires"}.Sanitize()
	return []string{
		`CREATE TABLE IF NOT EXISTS ` + table + ` (
			id         text PRIMARY KEY,
			expires_at timestamptz NOT NULL
		);
		CREATE INDEX IF NOT EXISTS ` + index + ` ON ` + table + ` (expires_at)`,
	}
}

// Claim implements notifykit.DedupeStore.
func (s *Store) Claim(ctx context.Context, id string, lease time.Duration) (bool, error) {
	var won bool
	err := s.pool.QueryRow(ctx, s.claimSQL, id, lease.Microseconds()).Scan(&won)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("pgdedupe: claim: %w", err)
	}
	s.maybeCleanup(ctx)
	return true, nil
}

// Commit implements notifykit.DedupeStore.
func (s *Store) Commit(ctx context.Context, id string, ttl time.Duration) error {
	if _, err := s.pool.Exec(ctx, s.commitSQL, id, ttl.Microseconds()); err != nil {
		return fmt.Errorf("pgdedupe: commit: %w", err)
	}
	return nil
}

// Release implements notifykit.DedupeStore.
func (s *Store) Release(ctx context.Context, id string) error {
	if _, err := s.pool.Exec(ctx, s.releaseSQL, id); err != nil {
		return fmt.Errorf("pgdedupe: release: %w", err)
	}
	return nil
}

// maxCleanupBatches bounds the work one unlucky Claim does; what is left
// waits for the next interval.
const maxCleanupBatches = 10

// DeleteExpired deletes expired rows in batches and reports how many.
func (s *Store) DeleteExpired(ctx context.Context) (int64, error) {
	var total int64
	for range maxCleanupBatches {
		tag, err := s.pool.Exec(ctx, s.cleanupSQL, s.opts.cleanupBatch)
		if err != nil {
			return total, fmt.Errorf("pgdedupe: delete expired: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < int64(s.opts.cleanupBatch) {
			break
		}
	}
	return total, nil
}

// maybeCleanup runs DeleteExpired on the claim that first finds the
// interval elapsed; the compare-and-swap picks one caller per instance.
func (s *Store) maybeCleanup(ctx context.Context) {
	if s.opts.cleanupInterval == 0 {
		return
	}
	now := time.Now().UnixNano()
	next := s.nextCleanup.Load()
	if now < next || !s.nextCleanup.CompareAndSwap(next, now+int64(s.opts.cleanupInterval)) {
		return
	}
	if n, err := s.DeleteExpired(ctx); err != nil {
		s.opts.logger.Warn("pgdedupe: cleanup failed", "err", err)
		s.opts.onError(err)
	} else if n > 0 {
		s.opts.logger.Debug("pgdedupe: deleted expired ids", "count", n)
	}
}

// Close closes the pool if Open created it; a Store from NewStore leaves
// the caller's pool alone.
func (s *Store) Close() {
	if s.owned {
		s.pool.Close()
	}
}
