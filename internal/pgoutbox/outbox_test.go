package pgoutbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/notifykit/notifykit"
	"github.com/notifykit/notifykit/internal/pglisten"
	"github.com/notifykit/notifykit/internal/pgtest"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnvDSN) != "" {
		os.Exit(runChild())
	}
	os.Exit(pgtest.Main(m))
}

func openOutbox(t *testing.T, dsn string) *Outbox {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	o, err := Open(ctx, pool, "dsgo")
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func enqueue(t *testing.T, o *Outbox, n int) {
	t.Helper()
	for i := range n {
		if err := o.Enqueue(context.Background(), nil, "sub", []byte(fmt.Sprint("n", i))); err != nil {
			t.Fatal(err)
		}
	}
}

func TestConcurrentClaimsAreDisjoint(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.New(t).URL
	a, b := openOutbox(t, dsn), openOutbox(t, dsn)
	enqueue(t, a, 100)
	var mu sync.Mutex
	seen := map[int64]string{}
	var wg sync.WaitGroup
	for i, o := range []*Outbox{a, b, a, b} {
		worker := fmt.Sprint("w", i)
		wg.Go(func() {
			for {
				items, err := o.Claim(ctx, worker, 7, time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if len(items) == 0 {
					return
				}
				mu.Lock()
				for _, it := range items {
					if prev, dup := seen[it.ID]; dup {
						t.Errorf("item %d claimed by %s and %s", it.ID, prev, worker)
					}
					seen[it.ID] = worker
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 100 {
		t.Fatalf("%d items claimed, want 100", len(seen))
	}
}

func TestSettleFencingRetryAndDead(t *testing.T) {
	ctx := context.Background()
	o := openOutbox(t, pgtest.New(t).URL)
	enqueue(t, o, 2)
	items, err := o.Claim(ctx, "w1", 10, 50*time.Millisecond)
	if err != nil || len(items) != 2 || items[0].Attempt != 1 || string(items[0].Payload) != "n0" {
		t.Fatalf("claim = %+v, %v", items, err)
	}
	if more, _ := o.Claim(ctx, "w2", 10, time.Minute); len(more) != 0 {
		t.Fatalf("leased items claimed again: %+v", more)
	}
	time.Sleep(80 * time.Millisecond)
	taken, err := o.Claim(ctx, "w2", 1, time.Minute)
	if err != nil || len(taken) != 1 || taken[0].ID != items[0].ID || taken[0].Attempt != 2 {
		t.Fatalf("expired lease not taken over: %+v, %v", taken, err)
	}
	// w1's late failure must not undo w2's claim.
	if err := o.Fail(ctx, "w1", items[0], errors.New("late"), 0, false); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("stale Fail = %v, want ErrLeaseLost", err)
	}
	if err := o.Fail(ctx, "w2", taken[0], errors.New("503"), time.Hour, false); err != nil {
		t.Fatal(err)
	}
	if again, _ := o.Claim(ctx, "w3", 10, 50*time.Millisecond); len(again) != 1 || again[0].ID != items[1].ID {
		t.Fatalf("retry not delayed: %+v", again)
	}
	time.Sleep(80 * time.Millisecond)
	if err := o.Fail(ctx, "w1", items[1], notifykit.Permanent(errors.New("410")), 0, true); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("stale Fail of item 2 = %v", err)
	}
	last, _ := o.Claim(ctx, "w4", 10, time.Minute)
	if len(last) != 1 || last[0].Attempt != 3 {
		t.Fatalf("claim = %+v", last)
	}
	if err := o.Fail(ctx, "w4", last[0], errors.New("410 gone"), 0, true); err != nil {
		t.Fatal(err)
	}
	counts, err := o.Counts(ctx)
	if err != nil || counts[StateDead] != 1 || counts[StatePending] != 1 {
		t.Fatalf("counts = %v, %v", counts, err)
	}
	var attempts int
	if err := o.pool.QueryRow(ctx, `SELECT count(*) FROM dsgo_attempts`).Scan(&attempts); err != nil || attempts != 4 {
		t.Fatalf("attempt log rows = %d, %v; want 4", attempts, err)
	}
}

func TestWorkerDeliversAndRetries(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	o := openOutbox(t, pgtest.New(t).URL)
	enqueue(t, o, 30)
	var mu sync.Mutex
	calls := map[string]int{}
	all := make(chan struct{})
	w := &Worker{ID: "w", Outbox: o, Poll: 20 * time.Millisecond, Backoff: func(int) time.Duration { return 0 },
		Deliver: func(ctx context.Context, it Item) error {
			mu.Lock()
			defer mu.Unlock()
			calls[string(it.Payload)]++
			if it.Attempt == 1 && len(calls)%3 == 0 {
				return errors.New("transient")
			}
			if string(it.Payload) == "n29" {
				return notifykit.Permanent(errors.New("gone"))
			}
			return nil
		},
		OnError: func(err error) { t.Error(err) },
	}
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	go func() {
		for {
			c, _ := o.Counts(context.Background())
			if c[StateDelivered]+c[StateDead] == 30 {
				close(all)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	select {
	case <-all:
	case <-time.After(20 * time.Second):
		t.Fatal("not all items settled")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	c, _ := o.Counts(context.Background())
	if c[StateDelivered] != 29 || c[StateDead] != 1 {
		t.Fatalf("counts = %v", c)
	}
}

// With a listener, an idle worker delivers a new item at once, long before
// its fallback poll.
func TestWorkerWakesOnEnqueue(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dsn := pgtest.New(t).URL
	o := openOutbox(t, dsn)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	l := pglisten.New(cfg, o.Channel(), nil, nil)
	defer l.Close()
	if err := l.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	got := make(chan Item, 1)
	w := &Worker{ID: "w", Outbox: o, Listener: l, Poll: time.Minute,
		Deliver: func(ctx context.Context, it Item) error { got <- it; return nil }}
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	time.Sleep(100 * time.Millisecond) // let it go idle
	start := time.Now()
	enqueue(t, o, 1)
	select {
	case <-got:
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("delivered after %v", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("not woken by Enqueue")
	}
	cancel()
	<-done
}
