package pgmigrate

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ErrSchemaTooNew reports a database whose schema a newer release migrated.
var ErrSchemaTooNew = errors.New("pgmigrate: database schema is newer than this code supports")

// Beginner is what Apply needs: *pgxpool.Pool and *pgx.Conn satisfy it.
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// lockKey is the advisory lock all components share; migrations are rare
// and short, so one key keeps even the version table's creation serial.
const lockKey = 0x6e6b5f6d6967 // "nk_mig"

// Apply brings component's schema to len(migrations), running the missing
// migrations in order in one transaction. It returns the version reached.
func Apply(ctx context.Context, db Beginner, component string, migrations []string) (int, error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("pgmigrate %s: begin: %w", component, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	// Concurrent CREATE TABLE IF NOT EXISTS can still collide, so the lock
	// comes first.
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(lockKey)); err != nil {
		return 0, fmt.Errorf("pgmigrate %s: lock: %w", component, err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS notifykit_schema (
		component text PRIMARY KEY,
		version   integer NOT NULL,
		updated   timestamptz NOT NULL DEFAULT now())`); err != nil {
		return 0, fmt.Errorf("pgmigrate %s: version table: %w", component, err)
	}
	var version int
	err = tx.QueryRow(ctx, "SELECT version FROM notifykit_schema WHERE component = $1", component).Scan(&version)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("pgmigrate %s: read version: %w", component, err)
	}
	if version > len(migrations) {
		return version, fmt.Errorf("%w: %s is at version %d, this code knows %d", ErrSchemaTooNew, component, version, len(migrations))
	}
	if version == len(migrations) {
		return version, nil
	}
	for i := version; i < len(migrations); i++ {
		if _, err := tx.Exec(ctx, migrations[i]); err != nil {
			return version, fmt.Errorf("pgmigrate %s: migration %d: %w", component, i+1, err)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO notifykit_schema (component, version) VALUES ($1, $2)
		ON CONFLICT (component) DO UPDATE SET version = EXCLUDED.version, updated = now()`,
		component, len(migrations)); err != nil {
		return version, fmt.Errorf("pgmigrate %s: record version: %w", component, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return version, fmt.Errorf("pgmigrate %s: commit: %w", component, err)
	}
	return len(migrations), nil
}
