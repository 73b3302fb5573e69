package notifykit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestDedupeSkipsHandledIDs(t *testing.T) {
	var calls atomic.Int32
	h := Chain(HandlerFunc(func(context.Context, Event) error { calls.Add(1); return nil }), Dedupe(nil, time.Hour))
	ctx := context.Background()
	for _, id := range []string{"a", "b", "a", "a", "b", "c"} {
		if err := h.HandleEvent(ctx, testEvent{id: id}); err != nil {
			t.Fatal(err)
		}
	}
	if calls.Load() != 3 {
		t.Fatalf("handler called %d times, want 3", calls.Load())
	}
}

func TestDedupeRetriesAfterFailure(t *testing.T) {
	fail := true
	var calls int
	h := Chain(HandlerFunc(func(context.Context, Event) error {
		calls++
		if fail {
			return errors.New("database down")
		}
		return nil
	}), Dedupe(nil, time.Hour))
	ctx := context.Background()
	if err := h.HandleEvent(ctx, testEvent{id: "x"}); err == nil {
		t.Fatal("failure swallowed")
	}
	fail = false
	if err := h.HandleEvent(ctx, testEvent{id: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := h.HandleEvent(ctx, testEvent{id: "x"}); err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Fatalf("handler called %d times, want 2 (failed try, then the redelivery)", calls)
	}
}

func TestDedupeNeverSuppressesEmptyIDs(t *testing.T) {
	var calls int
	h := Chain(HandlerFunc(func(context.Context, Event) error { calls++; return nil }), Dedupe(nil, time.Hour))
	for range 3 {
		_ = h.HandleEvent(context.Background(), testEvent{})
	}
	if calls != 3 {
		t.Fatalf("calls = %d", calls)
	}
}

func TestDedupeConcurrentDuplicatesRunOnce(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	h := Chain(HandlerFunc(func(context.Context, Event) error {
		calls.Add(1)
		<-release
		return nil
	}), Dedupe(nil, time.Hour))
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { _ = h.HandleEvent(context.Background(), testEvent{id: "same"}) })
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	if calls.Load() != 1 {
		t.Fatalf("handler ran %d times for one id", calls.Load())
	}
}

func TestMemoryDedupeStoreIsBounded(t *testing.T) {
	s := NewMemoryDedupeStore(100)
	ctx := context.Background()
	for i := range 10_000 {
		id := fmt.Sprint(i)
		if ok, _ := s.Claim(ctx, id, time.Hour); !ok {
			t.Fatalf("fresh id %s not claimed", id)
		}
		_ = s.Commit(ctx, id, time.Hour)
	}
	if s.Len() != 100 {
		t.Fatalf("Len = %d, want 100", s.Len())
	}
	if ok, _ := s.Claim(ctx, "9999", time.Hour); ok {
		t.Fatal("newest id forgotten")
	}
	if ok, _ := s.Claim(ctx, "0", time.Hour); !ok {
		t.Fatal("oldest id should have been evicted")
	}
}

func TestMemoryDedupeStoreExpires(t *testing.T) {
	s := NewMemoryDedupeStore(10)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	ctx := context.Background()
	_, _ = s.Claim(ctx, "lease", time.Minute)
	_, _ = s.Claim(ctx, "done", time.Minute)
	_ = s.Commit(ctx, "done", time.Hour)

	now = now.Add(2 * time.Minute)
	if ok, _ := s.Claim(ctx, "lease", time.Minute); !ok {
		t.Fatal("an expired lease still suppresses its id: a dead handler would lose the redelivery")
	}
	if ok, _ := s.Claim(ctx, "done", time.Minute); ok {
		t.Fatal("committed id forgotten before its TTL")
	}
	now = now.Add(2 * time.Hour)
	if ok, _ := s.Claim(ctx, "done", time.Minute); !ok {
		t.Fatal("committed id outlived its TTL")
	}
}

func TestMemoryDedupeStoreConcurrentClaims(t *testing.T) {
	s := NewMemoryDedupeStore(1000)
	var won atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if ok, _ := s.Claim(context.Background(), "k", time.Hour); ok {
				won.Add(1)
			}
		})
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d claims won, want 1", won.Load())
	}
}
