package pglisten

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/notifykit/notifykit/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func setup(t *testing.T, dsn string) (*pgxpool.Pool, *pgx.ConnConfig) {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return pool, cfg
}

func start(t *testing.T, cfg *pgx.ConnConfig, onError func(error)) *Listener {
	t.Helper()
	l := New(cfg, "nk_test", nil, onError)
	t.Cleanup(func() { _ = l.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	return l
}

func notifyTx(t *testing.T, pool *pgxpool.Pool, key string, commit bool) {
	t.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := Notify(ctx, tx, "nk_test", key); err != nil {
		t.Fatal(err)
	}
	if commit {
		err = tx.Commit(ctx)
	} else {
		err = tx.Rollback(ctx)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func woken(ch <-chan struct{}, within time.Duration) bool {
	select {
	case <-ch:
		return true
	case <-time.After(within):
		return false
	}
}

// drain drops the wake-up every subscriber gets when the listener connects.
func drain(ch <-chan struct{}) {
	select {
	case <-ch:
	default:
	}
}

func TestNotifyWakesSubscribersOfTheKeyOnBothInstances(t *testing.T) {
	pool, cfg := setup(t, pgtest.New(t).URL)
	a, b := start(t, cfg, nil), start(t, cfg, nil)
	qa, unsubA := a.Subscribe("q1")
	defer unsubA()
	qb, unsubB := b.Subscribe("q1")
	defer unsubB()
	other, unsubO := a.Subscribe("q2")
	defer unsubO()

	notifyTx(t, pool, "q1", true)
	if !woken(qa, 5*time.Second) || !woken(qb, 5*time.Second) {
		t.Fatal("subscriber of q1 not woken on both instances")
	}
	if woken(other, 200*time.Millisecond) {
		t.Fatal("subscriber of q2 woken by q1")
	}
}

func TestRolledBackNotifyIsNotDelivered(t *testing.T) {
	pool, cfg := setup(t, pgtest.New(t).URL)
	l := start(t, cfg, nil)
	ch, unsub := l.Subscribe("q")
	defer unsub()
	notifyTx(t, pool, "q", false)
	if woken(ch, 300*time.Millisecond) {
		t.Fatal("woken by a rolled-back transaction")
	}
	notifyTx(t, pool, "q", true)
	if !woken(ch, 5*time.Second) {
		t.Fatal("not woken by the committed one")
	}
}

func TestUnsubscribeStopsWakeUps(t *testing.T) {
	pool, cfg := setup(t, pgtest.New(t).URL)
	l := start(t, cfg, nil)
	ch, unsub := l.Subscribe("q")
	unsub()
	notifyTx(t, pool, "q", true)
	if woken(ch, 300*time.Millisecond) {
		t.Fatal("woken after unsubscribe")
	}
	l.mu.Lock()
	n := len(l.subs)
	l.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d keys left in the subscription map", n)
	}
}

// An idle connection is pinged, not dropped: the timeout that bounds each
// wait must not close the session.
func TestIdleCheckKeepsTheSession(t *testing.T) {
	old := idleCheck
	idleCheck = 50 * time.Millisecond
	defer func() { idleCheck = old }()
	pool, cfg := setup(t, pgtest.New(t).URL)
	var errs atomic.Int32
	l := start(t, cfg, func(error) { errs.Add(1) })
	ch, unsub := l.Subscribe("q")
	defer unsub()
	drain(ch)
	time.Sleep(300 * time.Millisecond)
	if errs.Load() != 0 || !l.Connected() {
		t.Fatalf("session dropped while idle (%d errors)", errs.Load())
	}
	if woken(ch, 0) {
		t.Fatal("a reconnect happened while idle")
	}
	notifyTx(t, pool, "q", true)
	if !woken(ch, 5*time.Second) {
		t.Fatal("not woken after idle checks")
	}
}

// After the database crashed and came back, the listener reconnects by
// itself, wakes every subscriber (their notifications may be lost) and
// delivers new notifications again.
func TestReconnectsAfterDatabaseCrash(t *testing.T) {
	ctx := context.Background()
	srv := pgtest.NewServer(t)
	cfg, err := pgx.ParseConfig(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	var errs atomic.Int32
	l := start(t, cfg, func(error) { errs.Add(1) })
	ch, unsub := l.Subscribe("q")
	defer unsub()
	drain(ch)
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if !woken(ch, 10*time.Second) {
		t.Fatal("no wake-up after reconnect")
	}
	if errs.Load() == 0 {
		t.Error("lost connection not reported to OnError")
	}
	pool, err := pgxpool.New(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	notifyTx(t, pool, "q", true)
	if !woken(ch, 5*time.Second) {
		t.Fatal("no notification after reconnect")
	}
}

func TestCloseStopsPromptly(t *testing.T) {
	_, cfg := setup(t, pgtest.New(t).URL)
	l := New(cfg, "nk_test", nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_ = l.Close()
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Close took %v", d)
	}
	if l.Connected() {
		t.Fatal("still connected after Close")
	}
}
