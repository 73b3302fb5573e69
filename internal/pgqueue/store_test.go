package pgqueue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/notifykit/notifykit/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func openStore(t *testing.T, dsn string, cfg Config) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s, err := Open(ctx, pool, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ids(msgs []Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.ID
	}
	return out
}

func TestQueueLifecycleFIFOAndErrors(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, pgtest.New(t).URL, Config{})
	must(t, s.CreateQueue(ctx, Queue{ID: "q", Owner: "p1", Secret: []byte("s")}, 0))
	if err := s.CreateQueue(ctx, Queue{ID: "q", Owner: "p2", Secret: []byte("x")}, 0); !errors.Is(err, ErrQueueExists) {
		t.Fatalf("duplicate queue: %v", err)
	}
	q, err := s.GetQueue(ctx, "q")
	if err != nil || q.Owner != "p1" || string(q.Secret) != "s" || q.Created.IsZero() {
		t.Fatalf("GetQueue = %+v, %v", q, err)
	}
	if msgs, err := s.Peek(ctx, "q", 5); err != nil || msgs == nil || len(msgs) != 0 {
		t.Fatalf("empty peek = %#v, %v; want empty non-nil slice", msgs, err)
	}
	for i := range 3 {
		must(t, s.Post(ctx, "q", Message{ID: fmt.Sprint("m", i), Content: []byte(fmt.Sprintf(`{"n":%d}`, i))}, 3))
	}
	if err := s.Post(ctx, "q", Message{ID: "m3", Content: []byte(`{}`)}, 3); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("post beyond MaxLength: %v", err)
	}
	msgs, err := s.Peek(ctx, "q", 2)
	if err != nil || fmt.Sprint(ids(msgs)) != "[m0 m1]" || string(msgs[1].Content) != `{"n":1}` {
		t.Fatalf("peek 2 = %v %q, %v", ids(msgs), msgs, err)
	}
	// Peek does not lock: the same head again.
	if msgs, _ := s.Peek(ctx, "q", 1); fmt.Sprint(ids(msgs)) != "[m0]" {
		t.Fatalf("second peek = %v", ids(msgs))
	}
	if ok, err := s.DeleteMessage(ctx, "q", "m0"); !ok || err != nil {
		t.Fatalf("delete m0 = %v, %v", ok, err)
	}
	if ok, err := s.DeleteMessage(ctx, "q", "m0"); ok || err != nil {
		t.Fatalf("second delete m0 = %v, %v; want false, nil", ok, err)
	}
	if _, err := s.DeleteMessage(ctx, "nope", "m0"); !errors.Is(err, ErrQueueNotFound) {
		t.Fatalf("delete in unknown queue: %v", err)
	}
	if n, err := s.Len(ctx, "q"); n != 2 || err != nil {
		t.Fatalf("Len = %d, %v", n, err)
	}
	if err := s.Post(ctx, "q", Message{ID: "m1", Content: []byte(`{}`)}, 3); !errors.Is(err, ErrMessageExists) {
		t.Fatalf("duplicate message id: %v", err)
	}
	if n, _ := s.Len(ctx, "q"); n != 2 {
		t.Fatalf("Len after a refused post = %d, want 2", n)
	}
	must(t, s.Post(ctx, "q", Message{ID: "m0", Content: []byte(`{}`)}, 3)) // room again; id reusable after delete
	if msgs, _ := s.Peek(ctx, "q", 10); fmt.Sprint(ids(msgs)) != "[m1 m2 m0]" {
		t.Fatalf("peek after re-post = %v", ids(msgs))
	}
	if _, err := s.Peek(ctx, "nope", 1); !errors.Is(err, ErrQueueNotFound) {
		t.Fatalf("peek unknown queue: %v", err)
	}
	if err := s.Post(ctx, "nope", Message{ID: "x", Content: []byte(`{}`)}, 3); !errors.Is(err, ErrQueueNotFound) {
		t.Fatalf("post to unknown queue: %v", err)
	}
	must(t, s.DeleteQueue(ctx, "q"))
	if err := s.DeleteQueue(ctx, "q"); !errors.Is(err, ErrQueueNotFound) {
		t.Fatalf("second delete queue: %v", err)
	}
	if _, err := s.GetQueue(ctx, "q"); !errors.Is(err, ErrQueueNotFound) {
		t.Fatalf("get deleted queue: %v", err)
	}
}

// Posts alternating between two instances keep their order.
func TestFIFOAcrossInstances(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.New(t).URL
	inst := []*Store{openStore(t, dsn, Config{}), openStore(t, dsn, Config{})}
	must(t, inst[0].CreateQueue(ctx, Queue{ID: "q", Owner: "p", Secret: []byte("s")}, 0))
	var want []string
	for i := range 40 {
		id := fmt.Sprintf("m%02d", i)
		want = append(want, id)
		must(t, inst[i%2].Post(ctx, "q", Message{ID: id, Content: []byte(`{}`)}, 0))
	}
	msgs, err := inst[1].Peek(ctx, "q", 100)
	must(t, err)
	if fmt.Sprint(ids(msgs)) != fmt.Sprint(want) {
		t.Fatalf("order = %v\nwant    %v", ids(msgs), want)
	}
}

// Senders and consumers spread over two instances: every message is
// delivered and deleted exactly once, although both consumers peek the
// same head (peek does not lock) and race to delete.
func TestTwoInstancesEveryMessageDeletedExactlyOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	dsn := pgtest.New(t).URL
	inst := []*Store{openStore(t, dsn, Config{}), openStore(t, dsn, Config{})}
	must(t, inst[0].CreateQueue(ctx, Queue{ID: "q", Owner: "p", Secret: []byte("s")}, 0))
	const senders, perSender = 4, 250
	const total = senders * perSender

	var mu sync.Mutex
	deletes := map[string]int{}
	done := make(chan struct{})
	var consumers sync.WaitGroup
	errs := make(chan error, 16)
	for c := range 2 {
		s := inst[c]
		consumers.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				msgs, err := s.Peek(ctx, "q", 10)
				if err != nil {
					errs <- err
					return
				}
				if len(msgs) == 0 {
					time.Sleep(5 * time.Millisecond)
				}
				for _, m := range msgs {
					ok, err := s.DeleteMessage(ctx, "q", m.ID)
					if err != nil {
						errs <- err
						return
					}
					if ok {
						mu.Lock()
						deletes[m.ID]++
						n := len(deletes)
						mu.Unlock()
						if n == total {
							close(done)
						}
					}
				}
			}
		})
	}
	var sendersWG sync.WaitGroup
	for w := range senders {
		sendersWG.Go(func() {
			for i := range perSender {
				if err := inst[(w+i)%2].Post(ctx, "q", Message{ID: fmt.Sprintf("w%d-%d", w, i), Content: []byte(`{}`)}, 0); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	sendersWG.Wait()
	select {
	case <-done:
	case err := <-errs:
		t.Fatal(err)
	case <-ctx.Done():
		t.Fatalf("only %d of %d messages deleted", len(deletes), total)
	}
	consumers.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for id, n := range deletes {
		if n != 1 {
			t.Errorf("%s deleted %d times", id, n)
		}
	}
	if n, err := inst[0].Len(ctx, "q"); n != 0 || err != nil {
		t.Fatalf("Len after all deletes = %d, %v", n, err)
	}
}

// The database crashes under a running store: calls work again after it
// restarts, with no new Store, and the committed message survived.
func TestRecoversFromDatabaseCrash(t *testing.T) {
	ctx := context.Background()
	srv := pgtest.NewServer(t)
	s := openStore(t, srv.URL, Config{})
	must(t, s.CreateQueue(ctx, Queue{ID: "q", Owner: "p", Secret: []byte("s")}, 0))
	must(t, s.Post(ctx, "q", Message{ID: "before", Content: []byte(`{}`)}, 0))
	must(t, srv.Kill())
	must(t, srv.Start(ctx))
	// The pool discards dead connections as they fail.
	deadline := time.Now().Add(15 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		if err = s.Post(ctx, "q", Message{ID: "after", Content: []byte(`{}`)}, 0); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	must(t, err)
	msgs, err := s.Peek(ctx, "q", 10)
	if err != nil || fmt.Sprint(ids(msgs)) != "[before after]" {
		t.Fatalf("after crash: %v, %v", ids(msgs), err)
	}
}

// The per-owner queue limit holds when instances create queues for one
// owner at the same time.
func TestOwnerQueueLimitAcrossInstances(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.New(t).URL
	inst := []*Store{openStore(t, dsn, Config{}), openStore(t, dsn, Config{})}
	var wg sync.WaitGroup
	var mu sync.Mutex
	created, refused := 0, 0
	for i := range 12 {
		wg.Go(func() {
			err := inst[i%2].CreateQueue(ctx, Queue{ID: fmt.Sprint("q", i), Owner: "p", Secret: []byte("s")}, 5)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				created++
			case errors.Is(err, ErrTooManyQueues):
				refused++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if created != 5 || refused != 7 {
		t.Fatalf("created %d, refused %d; want 5 and 7", created, refused)
	}
	must(t, inst[0].CreateQueue(ctx, Queue{ID: "other", Owner: "p2", Secret: []byte("s")}, 5))
}

// Subscribe wakes on posts from either instance; the poster's own instance
// is woken without waiting for the NOTIFY round trip.
func TestSubscribeWakesOnPosts(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.New(t).URL
	a, b := openStore(t, dsn, Config{}), openStore(t, dsn, Config{})
	must(t, a.CreateQueue(ctx, Queue{ID: "q", Owner: "p", Secret: []byte("s")}, 0))
	chA, unA := a.Subscribe("q")
	defer unA()
	chB, unB := b.Subscribe("q")
	defer unB()
	must(t, b.Post(ctx, "q", Message{ID: "m", Content: []byte(`{}`)}, 0))
	for name, ch := range map[string]<-chan struct{}{"a": chA, "b": chB} {
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
			t.Fatalf("instance %s not woken", name)
		}
	}
	msgs, err := a.Peek(ctx, "q", 1)
	if err != nil || len(msgs) != 1 || msgs[0].Created.IsZero() {
		t.Fatalf("peek = %+v, %v", msgs, err)
	}
}

// DeleteQueue through one instance wakes the queue's subscribers on the
// other, whose next peek reports the queue gone.
func TestDeleteQueueWakesSubscribersAcrossInstances(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.New(t).URL
	a, b := openStore(t, dsn, Config{}), openStore(t, dsn, Config{})
	must(t, a.CreateQueue(ctx, Queue{ID: "q", Owner: "p", Secret: []byte("s")}, 0))
	ch, unsub := a.Subscribe("q")
	defer unsub()
	must(t, b.DeleteQueue(ctx, "q"))
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("not woken by the other instance's DeleteQueue")
	}
	if _, err := a.Peek(ctx, "q", 1); !errors.Is(err, ErrQueueNotFound) {
		t.Fatalf("peek after delete: %v", err)
	}
}
