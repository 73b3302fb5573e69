// Package storetest is the conformance suite every comnormserver.Store must
// pass. The memory and bbolt stores run it in comnormserver's tests; a
// PostgreSQL store (issue 8) runs it the same way:
//
//	storetest.Run(t, storetest.Factory{New: ..., Reopen: ...})
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/notifykit/notifykit/comnorm/comnormserver"
)

// Factory makes stores for the suite.
type Factory struct {
	// New returns an empty store; the suite closes it.
	New func(t *testing.T) comnormserver.Store
	// Reopen closes s and returns a store over the same data (a restart).
	// Nil for stores that do not persist; the persistence test is skipped
	// for them.
	Reopen func(t *testing.T, s comnormserver.Store) comnormserver.Store
}

var ctx = context.Background()

func queue(id, owner string) comnormserver.QueueRecord {
	return comnormserver.QueueRecord{ID: id, Owner: owner, SecretHash: sha256.Sum256([]byte("secret-" + id)), Created: time.Now().UTC().Truncate(time.Millisecond)}
}

func msg(id, body string) comnormserver.MessageRecord {
	return comnormserver.MessageRecord{ID: id, Body: []byte(body), Created: time.Now().UTC()}
}

func mustNil(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ids(ms []comnormserver.MessageRecord) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

func equal(a, b []string) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

// Run runs the suite as subtests.
func Run(t *testing.T, f Factory) {
	open := func(t *testing.T) comnormserver.Store {
		s := f.New(t)
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	t.Run("QueueLifecycle", func(t *testing.T) {
		s := open(t)
		q := queue("q1", "alice")
		mustNil(t, s.CreateQueue(ctx, q, 0))
		got, err := s.Queue(ctx, "q1")
		mustNil(t, err)
		if got.ID != q.ID || got.Owner != q.Owner || got.SecretHash != q.SecretHash || !got.Created.Equal(q.Created) {
			t.Fatalf("Queue = %+v, want %+v", got, q)
		}
		if _, err := s.Queue(ctx, "nope"); !errors.Is(err, comnormserver.ErrQueueNotFound) {
			t.Fatalf("unknown queue: %v", err)
		}
		mustNil(t, s.DeleteQueue(ctx, "q1"))
		if _, err := s.Queue(ctx, "q1"); !errors.Is(err, comnormserver.ErrQueueNotFound) {
			t.Fatalf("deleted queue: %v", err)
		}
		if err := s.DeleteQueue(ctx, "q1"); !errors.Is(err, comnormserver.ErrQueueNotFound) {
			t.Fatalf("second delete: %v", err)
		}
	})
	t.Run("QueuesPerOwnerLimit", func(t *testing.T) {
		s := open(t)
		mustNil(t, s.CreateQueue(ctx, queue("a1", "alice"), 2))
		mustNil(t, s.CreateQueue(ctx, queue("a2", "alice"), 2))
		if err := s.CreateQueue(ctx, queue("a3", "alice"), 2); !errors.Is(err, comnormserver.ErrTooManyQueues) {
			t.Fatalf("third queue: %v", err)
		}
		mustNil(t, s.CreateQueue(ctx, queue("b1", "bob"), 2))
		mustNil(t, s.DeleteQueue(ctx, "a1"))
		mustNil(t, s.CreateQueue(ctx, queue("a3", "alice"), 2))
	})
	t.Run("FIFOPeekDoesNotRemove", func(t *testing.T) {
		s := open(t)
		mustNil(t, s.CreateQueue(ctx, queue("q", "o"), 0))
		for i := range 5 {
			mustNil(t, s.Append(ctx, "q", msg(fmt.Sprint("m", i), fmt.Sprintf(`{"n":%d}`, i)), 0))
		}
		for range 2 {
			got, err := s.Peek(ctx, "q", 3)
			mustNil(t, err)
			if !equal(ids(got), []string{"m0", "m1", "m2"}) {
				t.Fatalf("peek = %v", ids(got))
			}
			if string(got[1].Body) != `{"n":1}` {
				t.Fatalf("body = %s", got[1].Body)
			}
		}
		got, err := s.Peek(ctx, "q", 100)
		mustNil(t, err)
		if len(got) != 5 {
			t.Fatalf("peek 100 = %v", ids(got))
		}
	})
	t.Run("DeleteMessage", func(t *testing.T) {
		s := open(t)
		mustNil(t, s.CreateQueue(ctx, queue("q", "o"), 0))
		for i := range 4 {
			mustNil(t, s.Append(ctx, "q", msg(fmt.Sprint("m", i), `{}`), 0))
		}
		mustNil(t, s.DeleteMessage(ctx, "q", "m0"))
		mustNil(t, s.DeleteMessage(ctx, "q", "m2"))
		mustNil(t, s.DeleteMessage(ctx, "q", "m2")) // already gone: fine
		mustNil(t, s.DeleteMessage(ctx, "q", "never-existed"))
		got, err := s.Peek(ctx, "q", 10)
		mustNil(t, err)
		if !equal(ids(got), []string{"m1", "m3"}) {
			t.Fatalf("after delete: %v", ids(got))
		}
		if err := s.DeleteMessage(ctx, "nope", "m1"); !errors.Is(err, comnormserver.ErrQueueNotFound) {
			t.Fatalf("delete in unknown queue: %v", err)
		}
	})
	t.Run("UnknownQueue", func(t *testing.T) {
		s := open(t)
		if err := s.Append(ctx, "nope", msg("m", `{}`), 0); !errors.Is(err, comnormserver.ErrQueueNotFound) {
			t.Fatalf("append: %v", err)
		}
		if _, err := s.Peek(ctx, "nope", 1); !errors.Is(err, comnormserver.ErrQueueNotFound) {
			t.Fatalf("peek: %v", err)
		}
	})
	t.Run("QueueFullAndIsolation", func(t *testing.T) {
		s := open(t)
		mustNil(t, s.CreateQueue(ctx, queue("q1", "o"), 0))
		mustNil(t, s.CreateQueue(ctx, queue("q2", "o"), 0))
		mustNil(t, s.Append(ctx, "q1", msg("a", `{}`), 2))
		mustNil(t, s.Append(ctx, "q1", msg("b", `{}`), 2))
		if err := s.Append(ctx, "q1", msg("c", `{}`), 2); !errors.Is(err, comnormserver.ErrQueueFull) {
			t.Fatalf("full queue: %v", err)
		}
		mustNil(t, s.Append(ctx, "q2", msg("c", `{}`), 2))
		mustNil(t, s.DeleteMessage(ctx, "q1", "a"))
		mustNil(t, s.Append(ctx, "q1", msg("d", `{}`), 2))
		g1, _ := s.Peek(ctx, "q1", 10)
		g2, _ := s.Peek(ctx, "q2", 10)
		if !equal(ids(g1), []string{"b", "d"}) || !equal(ids(g2), []string{"c"}) {
			t.Fatalf("q1 %v q2 %v", ids(g1), ids(g2))
		}
		mustNil(t, s.DeleteQueue(ctx, "q1"))
		mustNil(t, s.CreateQueue(ctx, queue("q1", "o"), 0))
		if g, _ := s.Peek(ctx, "q1", 10); len(g) != 0 {
			t.Fatalf("recreated queue holds %v", ids(g))
		}
	})
	t.Run("BodiesVerbatim", func(t *testing.T) {
		s := open(t)
		mustNil(t, s.CreateQueue(ctx, queue("q", "o"), 0))
		bodies := []string{`{ "a" : 1 }`, `{"ü":"€𝄞"}`, "{\n\t\"x\": [1, 2]\n}", `{}`}
		for i, b := range bodies {
			mustNil(t, s.Append(ctx, "q", msg(fmt.Sprint(i), b), 0))
		}
		got, err := s.Peek(ctx, "q", 10)
		mustNil(t, err)
		for i, m := range got {
			if !bytes.Equal(m.Body, []byte(bodies[i])) {
				t.Fatalf("body %d = %q, want %q", i, m.Body, bodies[i])
			}
		}
	})
	t.Run("SubscribeWakesOnAppendAndDeleteQueue", func(t *testing.T) {
		s := open(t)
		mustNil(t, s.CreateQueue(ctx, queue("q", "o"), 0))
		mustNil(t, s.CreateQueue(ctx, queue("other", "o"), 0))
		ch, cancel := s.Subscribe("q")
		defer cancel()
		mustNil(t, s.Append(ctx, "other", msg("x", `{}`), 0))
		select {
		case <-ch:
			t.Fatal("woken by another queue")
		case <-time.After(50 * time.Millisecond):
		}
		mustNil(t, s.Append(ctx, "q", msg("y", `{}`), 0))
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
			t.Fatal("no wake-up after append")
		}
		mustNil(t, s.DeleteQueue(ctx, "q"))
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
			t.Fatal("no wake-up after delete queue")
		}
	})
	t.Run("ConcurrentAppendsAllKept", func(t *testing.T) {
		s := open(t)
		mustNil(t, s.CreateQueue(ctx, queue("q", "o"), 0))
		const writers, each = 8, 50
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					if err := s.Append(ctx, "q", msg(fmt.Sprintf("w%d-%d", w, i), `{}`), 0); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		got, err := s.Peek(ctx, "q", writers*each+1)
		mustNil(t, err)
		seen := map[string]bool{}
		last := map[string]int{}
		for _, m := range got {
			if seen[m.ID] {
				t.Fatalf("duplicate %s", m.ID)
			}
			seen[m.ID] = true
			var w, i int
			fmt.Sscanf(m.ID, "w%d-%d", &w, &i)
			if prev, ok := last[fmt.Sprint(w)]; ok && prev > i {
				t.Fatalf("writer %d out of order: %d after %d", w, i, prev)
			}
			last[fmt.Sprint(w)] = i
		}
		if len(seen) != writers*each {
			t.Fatalf("%d messages, want %d", len(seen), writers*each)
		}
	})
	t.Run("CancelledContext", func(t *testing.T) {
		s := open(t)
		mustNil(t, s.CreateQueue(ctx, queue("q", "o"), 0))
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := s.Append(cctx, "q", msg("m", `{}`), 0); !errors.Is(err, context.Canceled) {
			t.Fatalf("append with cancelled ctx: %v", err)
		}
	})
	t.Run("SurvivesReopen", func(t *testing.T) {
		if f.Reopen == nil {
			t.Skip("store does not persist")
		}
		s := f.New(t)
		mustNil(t, s.CreateQueue(ctx, queue("q", "o"), 0))
		for i := range 3 {
			mustNil(t, s.Append(ctx, "q", msg(fmt.Sprint("m", i), fmt.Sprintf(`{"i":%d}`, i)), 0))
		}
		mustNil(t, s.DeleteMessage(ctx, "q", "m1"))
		s = f.Reopen(t, s)
		t.Cleanup(func() { _ = s.Close() })
		got, err := s.Peek(ctx, "q", 10)
		mustNil(t, err)
		if !equal(ids(got), []string{"m0", "m2"}) || string(got[1].Body) != `{"i":2}` {
			t.Fatalf("after reopen: %v", ids(got))
		}
		mustNil(t, s.Append(ctx, "q", msg("m3", `{}`), 0))
		got, _ = s.Peek(ctx, "q", 10)
		if !equal(ids(got), []string{"m0", "m2", "m3"}) {
			t.Fatalf("append after reopen: %v", ids(got))
		}
	})
}
