package pgmigrate_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/notifykit/notifykit/internal/pgmigrate"
	"github.com/notifykit/notifykit/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func pool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	p, err := pgxpool.New(context.Background(), pgtest.New(t).URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

var migrations = []string{
	"CREATE TABLE m (id int PRIMARY KEY)",
	"ALTER TABLE m ADD COLUMN note text; INSERT INTO m VALUES (1, 'once')",
}

func TestApplyIsIdempotentAndIncremental(t *testing.T) {
	ctx := context.Background()
	db := pool(t)
	if v, err := pgmigrate.Apply(ctx, db, "c", migrations[:1]); err != nil || v != 1 {
		t.Fatalf("first: v=%d err=%v", v, err)
	}
	for range 2 {
		if v, err := pgmigrate.Apply(ctx, db, "c", migrations); err != nil || v != 2 {
			t.Fatalf("upgrade: v=%d err=%v", v, err)
		}
	}
	var n int
	if err := db.QueryRow(ctx, "SELECT count(*) FROM m").Scan(&n); err != nil || n != 1 {
		t.Fatalf("rows=%d err=%v, want the data migration applied once", n, err)
	}
	// Components are independent.
	if v, err := pgmigrate.Apply(ctx, db, "other", []string{"CREATE TABLE o (x int)"}); err != nil || v != 1 {
		t.Fatalf("other: v=%d err=%v", v, err)
	}
}

func TestApplyConcurrentInstancesApplyOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db := pool(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := pgmigrate.Apply(ctx, db, "c", migrations)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := db.QueryRow(ctx, "SELECT count(*) FROM m").Scan(&n); err != nil || n != 1 {
		t.Fatalf("rows=%d err=%v", n, err)
	}
}

func TestApplyFailedMigrationLeavesNothingBehind(t *testing.T) {
	ctx := context.Background()
	db := pool(t)
	bad := []string{"CREATE TABLE first (x int)", "THIS IS NOT SQL"}
	if _, err := pgmigrate.Apply(ctx, db, "c", bad); err == nil {
		t.Fatal("bad migration applied")
	}
	var exists bool
	if err := db.QueryRow(ctx, "SELECT to_regclass('first') IS NOT NULL").Scan(&exists); err != nil || exists {
		t.Fatalf("first migration kept after the second failed (exists=%v err=%v)", exists, err)
	}
}

func TestApplyRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	db := pool(t)
	if _, err := pgmigrate.Apply(ctx, db, "c", migrations); err != nil {
		t.Fatal(err)
	}
	_, err := pgmigrate.Apply(ctx, db, "c", migrations[:1])
	if !errors.Is(err, pgmigrate.ErrSchemaTooNew) {
		t.Fatalf("err = %v, want ErrSchemaTooNew", err)
	}
}
