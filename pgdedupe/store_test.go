package pgdedupe_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/notifykit/notifykit"
	"github.com/notifykit/notifykit/internal/pgtest"
	"github.com/notifykit/notifykit/pgdedupe"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func newPool(t *testing.T, dsn string) *pgxpool.Pool {
	t.Helper()
	p, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func newStore(t *testing.T, pool *pgxpool.Pool, opts ...pgdedupe.Option) *pgdedupe.Store {
	t.Helper()
	s, err := pgdedupe.NewStore(context.Background(), pool, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func claim(t *testing.T, s *pgdedupe.Store, id string, lease time.Duration) bool {
	t.Helper()
	ok, err := s.Claim(context.Background(), id, lease)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestClaimCommitRelease(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, newPool(t, pgtest.New(t).URL))
	if !claim(t, s, "a", time.Minute) {
		t.Fatal("fresh id not claimed")
	}
	if claim(t, s, "a", time.Minute) {
		t.Fatal("claimed id claimed again")
	}
	if err := s.Release(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if !claim(t, s, "a", time.Minute) {
		t.Fatal("released id not claimable")
	}
	if err := s.Commit(ctx, "a", time.Hour); err != nil {
		t.Fatal(err)
	}
	if claim(t, s, "a", time.Minute) {
		t.Fatal("committed id claimed")
	}
	// Commit without a claim is allowed (the interface does not forbid it).
	if err := s.Commit(ctx, "b", time.Hour); err != nil {
		t.Fatal(err)
	}
	if claim(t, s, "b", time.Minute) {
		t.Fatal("committed id b claimed")
	}
	// Releasing an unknown id is a no-op.
	if err := s.Release(ctx, "nope"); err != nil {
		t.Fatal(err)
	}
}

func TestExpiredLeaseAndTTLCanBeClaimed(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, newPool(t, pgtest.New(t).URL))
	if !claim(t, s, "lease", 50*time.Millisecond) {
		t.Fatal("not claimed")
	}
	if err := s.Commit(ctx, "ttl", 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if claim(t, s, "lease", time.Minute) || claim(t, s, "ttl", time.Minute) {
		t.Fatal("claimed before expiry")
	}
	time.Sleep(120 * time.Millisecond)
	if !claim(t, s, "lease", time.Minute) {
		t.Fatal("expired lease not taken over")
	}
	if !claim(t, s, "ttl", time.Minute) {
		t.Fatal("expired commit not claimable")
	}
}

// Two instances (two pools, as two processes would have) claim the same
// ids concurrently: every id is won exactly once.
func TestTwoInstancesRaceExactlyOneClaimWins(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dsn := pgtest.New(t).URL
	stores := []*pgdedupe.Store{newStore(t, newPool(t, dsn)), newStore(t, newPool(t, dsn))}
	const ids, workersPerStore = 300, 4
	wins := make([]atomic.Int32, ids)
	var wg sync.WaitGroup
	errs := make(chan error, len(stores)*workersPerStore)
	for _, s := range stores {
		for range workersPerStore {
			order := rand.Perm(ids)
			wg.Go(func() {
				for _, i := range order {
					ok, err := s.Claim(ctx, fmt.Sprint("id-", i), time.Minute)
					if err != nil {
						errs <- err
						return
					}
					if ok {
						wins[i].Add(1)
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := range wins {
		if n := wins[i].Load(); n != 1 {
			t.Errorf("id-%d won %d times, want 1", i, n)
		}
	}
}

type event struct{ id string }

func (e event) ID() string      { return e.id }
func (e event) Source() string  { return "test" }
func (e event) Type() string    { return "test.event" }
func (e event) Subject() string { return e.id }
func (e event) Time() time.Time { return time.Time{} }

// The middleware on two instances sharing the table handles each id once
// when deliveries are spread over both, and again after a failure.
func TestDedupeMiddlewareAcrossInstances(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.New(t).URL
	var mu sync.Mutex
	handled := map[string]int{}
	fail := map[string]bool{"flaky": true}
	h := notifykit.HandlerFunc(func(ctx context.Context, e notifykit.Event) error {
		mu.Lock()
		defer mu.Unlock()
		handled[e.ID()]++
		if fail[e.ID()] {
			fail[e.ID()] = false
			return errors.New("transient")
		}
		return nil
	})
	a := notifykit.Dedupe(newStore(t, newPool(t, dsn)), time.Hour)(h)
	b := notifykit.Dedupe(newStore(t, newPool(t, dsn)), time.Hour)(h)
	for i, id := range []string{"x", "y", "x", "flaky", "y", "flaky", "flaky", "x"} {
		inst := a
		if i%2 == 1 {
			inst = b
		}
		_ = inst.HandleEvent(ctx, event{id})
	}
	want := map[string]int{"x": 1, "y": 1, "flaky": 2}
	for id, n := range want {
		if handled[id] != n {
			t.Errorf("%s handled %d times, want %d", id, handled[id], n)
		}
	}
}

func TestDeleteExpiredAndAutomaticCleanup(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t, pgtest.New(t).URL)
	s := newStore(t, pool, pgdedupe.WithCleanupInterval(0))
	for i := range 5 {
		if err := s.Commit(ctx, fmt.Sprint("old-", i), time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Commit(ctx, "live", time.Hour); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	rows := func() (n int) {
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM notifykit_dedupe").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	claim(t, s, "new", time.Minute) // cleanup off: nothing deleted
	if n := rows(); n != 7 {
		t.Fatalf("rows = %d, want 7 with cleanup off", n)
	}
	n, err := s.DeleteExpired(ctx)
	if err != nil || n != 5 {
		t.Fatalf("DeleteExpired = %d, %v; want 5", n, err)
	}
	if n := rows(); n != 2 {
		t.Fatalf("rows = %d, want 2", n)
	}

	auto := newStore(t, pool, pgdedupe.WithCleanupInterval(time.Hour))
	if err := auto.Commit(ctx, "old", time.Millisecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	claim(t, auto, "trigger", time.Minute) // first claim cleans
	if n := rows(); n != 3 {
		t.Fatalf("rows = %d, want 3 after the first claim cleaned", n)
	}
	if err := auto.Commit(ctx, "old2", time.Millisecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	claim(t, auto, "trigger2", time.Minute) // within the interval: no cleanup
	if n := rows(); n != 5 {
		t.Fatalf("rows = %d, want 5 within the interval", n)
	}
}

func TestSchemaMigrationIdempotentAndCustomTable(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t, pgtest.New(t).URL)
	if _, err := pool.Exec(ctx, `CREATE SCHEMA app`); err != nil {
		t.Fatal(err)
	}
	a := newStore(t, pool, pgdedupe.WithTable("app.Seen"))
	b := newStore(t, pool, pgdedupe.WithTable("app.Seen")) // second start: no-op
	other := newStore(t, pool)
	if !claim(t, a, "k", time.Minute) || claim(t, b, "k", time.Minute) {
		t.Fatal("stores on one table disagree")
	}
	if !claim(t, other, "k", time.Minute) {
		t.Fatal("stores on different tables share ids")
	}
	var v int
	if err := pool.QueryRow(ctx, `SELECT version FROM notifykit_schema WHERE component = 'pgdedupe:app.Seen'`).Scan(&v); err != nil || v != 1 {
		t.Fatalf("version = %d, %v", v, err)
	}
}

func TestOptionsValidate(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t, pgtest.New(t).URL)
	for name, opt := range map[string]pgdedupe.Option{
		"empty table":      pgdedupe.WithTable(""),
		"two dots":         pgdedupe.WithTable("a.b.c"),
		"long table":       pgdedupe.WithTable(string(make([]byte, 60))),
		"negative cleanup": pgdedupe.WithCleanupInterval(-time.Second),
		"nil logger":       pgdedupe.WithLogger(nil),
		"nil onerror":      pgdedupe.WithOnError(nil),
	} {
		if _, err := pgdedupe.NewStore(ctx, pool, opt); !errors.Is(err, pgdedupe.ErrInvalidOption) {
			t.Errorf("%s: err = %v, want ErrInvalidOption", name, err)
		}
	}
	if _, err := pgdedupe.NewStore(ctx, nil); !errors.Is(err, pgdedupe.ErrInvalidOption) {
		t.Errorf("nil pool: err = %v", err)
	}
}

func TestOpenAndErrorsAfterClose(t *testing.T) {
	ctx := context.Background()
	s, err := pgdedupe.Open(ctx, pgtest.New(t).URL)
	if err != nil {
		t.Fatal(err)
	}
	if !claim(t, s, "a", time.Minute) {
		t.Fatal("not claimed")
	}
	s.Close()
	if _, err := s.Claim(ctx, "b", time.Minute); err == nil {
		t.Fatal("Claim on a closed store succeeded")
	}
	if _, err := pgdedupe.Open(ctx, "postgres://nobody@127.0.0.1:1/x?connect_timeout=1"); err == nil {
		t.Fatal("Open of an unreachable server succeeded")
	}
}

// The database restarting under a store is survived without a new store.
func TestSurvivesDatabaseRestart(t *testing.T) {
	ctx := context.Background()
	srv := pgtest.NewServer(t)
	s, err := pgdedupe.Open(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Commit(ctx, "done", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	// The pool's old connections are dead; pgxpool discards them, so at most
	// a few calls fail before a fresh connection serves.
	var won bool
	deadline := time.Now().Add(10 * time.Second)
	for {
		won, err = s.Claim(ctx, "done", time.Minute)
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	if won {
		t.Fatal("committed id lost across a database crash")
	}
}
