package notifykit

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// recorder is a handler that records the events it saw.
type recorder struct {
	mu   sync.Mutex
	seen []testEvent
	err  error
}

func (r *recorder) HandleEvent(_ context.Context, e Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, e.(testEvent))
	return r.err
}

func (r *recorder) events() []testEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]testEvent(nil), r.seen...)
}

func TestCoalesceMergesToLatestPerSubject(t *testing.T) {
	rec := &recorder{}
	h := Coalesce(100 * time.Millisecond)(rec)
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for i := range 5 {
		for _, subj := range []string{"A", "B"} {
			wg.Go(func() { errs <- h.HandleEvent(context.Background(), testEvent{subject: subj, n: i}) })
		}
		time.Sleep(5 * time.Millisecond) // keep arrival order for "latest"
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got := rec.events()
	if len(got) != 2 {
		t.Fatalf("handler called %d times, want one per subject: %+v", len(got), got)
	}
	for _, e := range got {
		if e.n != 4 {
			t.Errorf("subject %s handled event %d, want the latest (4)", e.subject, e.n)
		}
	}
}

func TestCoalesceReturnsSharedErrorToEveryCaller(t *testing.T) {
	boom := errors.New("downstream failed")
	h := Coalesce(50 * time.Millisecond)(&recorder{err: boom})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures int
	for range 4 {
		wg.Go(func() {
			if errors.Is(h.HandleEvent(context.Background(), testEvent{subject: "A"}), boom) {
				mu.Lock()
				failures++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if failures != 4 {
		t.Fatalf("%d of 4 callers saw the failure: the others would have been acked although nothing was handled", failures)
	}
}

func TestCoalesceFlushRunsPendingNow(t *testing.T) {
	rec := &recorder{}
	c := NewCoalescer(rec, time.Hour)
	done := make(chan error, 1)
	go func() { done <- c.HandleEvent(context.Background(), testEvent{subject: "A", n: 1}) }()
	waitFor(t, func() bool { c.mu.Lock(); defer c.mu.Unlock(); return len(c.pending) == 1 })

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := rec.events(); len(got) != 1 || got[0].n != 1 {
		t.Fatalf("flush handled %+v", got)
	}
}

func TestCoalesceCallerCancelStillHandlesEvent(t *testing.T) {
	rec := &recorder{}
	c := NewCoalescer(rec, 50*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.HandleEvent(ctx, testEvent{subject: "A"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled (the delivery must stay unsettled)", err)
	}
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(rec.events()) != 1 {
		t.Fatal("the pending event was dropped")
	}
}

func TestCoalescePassesEmptySubjectThrough(t *testing.T) {
	rec := &recorder{}
	h := Coalesce(time.Hour)(rec)
	if err := h.HandleEvent(context.Background(), testEvent{id: "x"}); err != nil {
		t.Fatal(err)
	}
	if len(rec.events()) != 1 {
		t.Fatal("event without subject was held back")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}
