package comnorm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notifykit/notifykit"
	"github.com/notifykit/notifykit/comnorm"
	"github.com/notifykit/notifykit/internal/backoff"
)

type numbered struct {
	N int `json:"n"`
}

func postN(t *testing.T, q *comnorm.Queue, from, to int) {
	t.Helper()
	s := newSender(t)
	for i := from; i < to; i++ {
		if err := s.Post(bg, q.NotificationURL, q.NotificationSecret, numbered{i}); err != nil {
			t.Fatal(err)
		}
	}
}

// fastOpts keeps consumer tests quick: short polls and backoffs.
func fastOpts(extra ...comnorm.Option) []comnorm.Option {
	return append([]comnorm.Option{
		comnorm.WithPollTimeout(time.Second),
		comnorm.WithMinPollInterval(10 * time.Millisecond),
		comnorm.WithErrorBackoff(backoff.Constant(20 * time.Millisecond)),
		comnorm.WithRetry(3, backoff.Constant(20*time.Millisecond)),
	}, extra...)
}

// runConsumer starts Run in the background; the returned func cancels it
// and returns Run's result.
func runConsumer(t *testing.T, c *comnorm.Consumer) func() error {
	t.Helper()
	ctx, cancel := context.WithCancel(bg)
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var once sync.Once
	var err error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				t.Error("Run did not return")
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func queueLen(t *testing.T, c *comnorm.Client, q *comnorm.Queue) int {
	t.Helper()
	msgs, err := c.Peek(bg, q.ID, comnorm.PeekOptions{Count: 100})
	if err != nil {
		t.Fatal(err)
	}
	return len(msgs)
}

func TestConsumerFIFOAndDeletes(t *testing.T) {
	_, c, q := setup(t)
	postN(t, q, 0, 40)
	var mu sync.Mutex
	var got []int
	cons, err := comnorm.NewConsumer(c, q.ID, fastOpts(comnorm.WithBatch(7))...)
	if err != nil {
		t.Fatal(err)
	}
	cons.OnMessage(func(ctx context.Context, e *comnorm.Event) error {
		var v numbered
		if err := e.Decode(&v); err != nil {
			return err
		}
		mu.Lock()
		got = append(got, v.N)
		mu.Unlock()
		if e.Source() != "comnorm" || e.ID() != e.Message.ID || e.Subject() != e.Message.ID || e.Time().IsZero() || e.Attempt != 1 || e.QueueID != q.ID {
			t.Errorf("event fields: %+v", e)
		}
		return nil
	})
	stop := runConsumer(t, cons)
	waitUntil(t, 10*time.Second, "40 messages", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 40 })
	waitUntil(t, 5*time.Second, "empty queue", func() bool { return queueLen(t, c, q) == 0 })
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	for i, n := range got {
		if n != i {
			t.Fatalf("order %v", got)
		}
	}
}

func TestConsumerFailureKeepsMessageAndRetries(t *testing.T) {
	_, c, q := setup(t)
	postN(t, q, 0, 3)
	var calls sync.Map // n -> *atomic.Int32
	var errs atomic.Int32
	cons, _ := comnorm.NewConsumer(c, q.ID, fastOpts(comnorm.WithOnError(func(error) { errs.Add(1) }))...)
	inQueueWhileFailing := make(chan int, 10)
	cons.OnMessage(func(ctx context.Context, e *comnorm.Event) error {
		var v numbered
		_ = e.Decode(&v)
		ctr, _ := calls.LoadOrStore(v.N, new(atomic.Int32))
		n := ctr.(*atomic.Int32).Add(1)
		if int(n) != e.Attempt {
			t.Errorf("message %d: Attempt %d on call %d", v.N, e.Attempt, n)
		}
		if v.N == 1 && n < 3 {
			inQueueWhileFailing <- queueLen(t, c, q)
			return errors.New("temporary failure")
		}
		return nil
	})
	runConsumer(t, cons)
	waitUntil(t, 10*time.Second, "empty queue", func() bool { return queueLen(t, c, q) == 0 })
	if ctr, _ := calls.Load(1); ctr.(*atomic.Int32).Load() != 3 {
		t.Fatalf("failing message handled %d times", ctr.(*atomic.Int32).Load())
	}
	if l := <-inQueueWhileFailing; l < 1 {
		t.Fatal("message was gone while its handler failed")
	}
	if errs.Load() < 2 {
		t.Fatalf("OnError called %d times", errs.Load())
	}
}

func TestConsumerPoisonGoesToDeadLetter(t *testing.T) {
	_, c, q := setup(t)
	postN(t, q, 0, 5)
	var poisonCalls atomic.Int32
	var handled sync.Map
	var dead []int
	var mu sync.Mutex
	cons, _ := comnorm.NewConsumer(c, q.ID, fastOpts(
		comnorm.WithDeadLetter(func(ctx context.Context, e *comnorm.Event, err error) error {
			if !errors.Is(err, comnorm.ErrMaxAttempts) {
				t.Errorf("dead-letter error %v", err)
			}
			var v numbered
			_ = e.Decode(&v)
			mu.Lock()
			dead = append(dead, v.N)
			mu.Unlock()
			return nil
		}))...)
	cons.OnMessage(func(ctx context.Context, e *comnorm.Event) error {
		var v numbered
		_ = e.Decode(&v)
		if v.N == 2 {
			poisonCalls.Add(1)
			return errors.New("poison")
		}
		handled.Store(v.N, true)
		return nil
	})
	runConsumer(t, cons)
	waitUntil(t, 10*time.Second, "empty queue", func() bool { return queueLen(t, c, q) == 0 })
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(dead, []int{2}) || poisonCalls.Load() != 3 {
		t.Fatalf("dead %v after %d calls", dead, poisonCalls.Load())
	}
	for _, n := range []int{0, 1, 3, 4} {
		if _, ok := handled.Load(n); !ok {
			t.Fatalf("message %d not handled", n)
		}
	}
}

func TestConsumerPoisonWithoutDeadLetterIsKept(t *testing.T) {
	_, c, q := setup(t)
	postN(t, q, 0, 2)
	var calls atomic.Int32
	maxAttemptsReported := make(chan error, 100)
	cons, _ := comnorm.NewConsumer(c, q.ID, fastOpts(comnorm.WithOnError(func(err error) {
		if errors.Is(err, comnorm.ErrMaxAttempts) {
			maxAttemptsReported <- err
		}
	}))...)
	cons.OnMessage(func(ctx context.Context, e *comnorm.Event) error {
		var v numbered
		_ = e.Decode(&v)
		if v.N == 0 {
			calls.Add(1)
			return errors.New("poison")
		}
		return nil
	})
	stop := runConsumer(t, cons)
	var err error
	select {
	case err = <-maxAttemptsReported:
	case <-time.After(10 * time.Second):
		t.Fatal("no ErrMaxAttempts report")
	}
	var me *comnorm.MessageError
	if !errors.As(err, &me) || me.Op != "dead-letter" || me.QueueID != q.ID {
		t.Fatalf("report %v", err)
	}
	waitUntil(t, 5*time.Second, "second message", func() bool { return queueLen(t, c, q) == 1 })
	time.Sleep(200 * time.Millisecond) // several more backoff rounds
	_ = stop()
	if calls.Load() != 3 {
		t.Fatalf("handler called %d times for the poison message, want 3", calls.Load())
	}
	if queueLen(t, c, q) != 1 {
		t.Fatal("poison message was deleted without a dead-letter callback")
	}
}

func TestConsumerPermanentErrorAndFailingDeadLetter(t *testing.T) {
	_, c, q := setup(t)
	postN(t, q, 0, 1)
	var calls, dlCalls atomic.Int32
	cons, _ := comnorm.NewConsumer(c, q.ID, fastOpts(comnorm.WithDeadLetter(func(ctx context.Context, e *comnorm.Event, err error) error {
		if dlCalls.Add(1) == 1 {
			return errors.New("dead-letter store down")
		}
		return nil
	}))...)
	cons.OnMessage(func(ctx context.Context, e *comnorm.Event) error {
		calls.Add(1)
		return notifykit.Permanent(errors.New("cannot ever work"))
	})
	runConsumer(t, cons)
	waitUntil(t, 10*time.Second, "empty queue", func() bool { return queueLen(t, c, q) == 0 })
	if calls.Load() != 1 || dlCalls.Load() != 2 {
		t.Fatalf("handler %d, dead-letter %d calls", calls.Load(), dlCalls.Load())
	}
}

func TestConsumerConcurrencyNeverDoubleDispatches(t *testing.T) {
	_, c, q := setup(t)
	const total = 150
	postN(t, q, 0, total)
	var mu sync.Mutex
	active := map[string]bool{}
	seen := map[int]int{}
	var cur, peak atomic.Int32
	cons, _ := comnorm.NewConsumer(c, q.ID, fastOpts(comnorm.WithConcurrency(6), comnorm.WithBatch(20))...)
	cons.OnMessage(func(ctx context.Context, e *comnorm.Event) error {
		mu.Lock()
		if active[e.ID()] {
			t.Errorf("message %s dispatched twice concurrently", e.ID())
		}
		active[e.ID()] = true
		mu.Unlock()
		n := cur.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(2 * time.Millisecond)
		cur.Add(-1)
		var v numbered
		_ = e.Decode(&v)
		mu.Lock()
		delete(active, e.ID())
		seen[v.N]++
		mu.Unlock()
		return nil
	})
	stop := runConsumer(t, cons)
	waitUntil(t, 20*time.Second, "all messages", func() bool { mu.Lock(); defer mu.Unlock(); return len(seen) == total })
	waitUntil(t, 5*time.Second, "empty queue", func() bool { return queueLen(t, c, q) == 0 })
	_ = stop()
	if p := peak.Load(); p < 2 || p > 6 {
		t.Fatalf("peak concurrency %d", p)
	}
	for n, k := range seen {
		if k != 1 {
			t.Errorf("message %d handled %d times", n, k)
		}
	}
}

func TestConsumerGracefulShutdown(t *testing.T) {
	_, c, q := setup(t)
	postN(t, q, 0, 1)
	started := make(chan struct{})
	release := make(chan struct{})
	cons, _ := comnorm.NewConsumer(c, q.ID, fastOpts()...)
	cons.OnMessage(func(ctx context.Context, e *comnorm.Event) error {
		close(started)
		<-release
		return nil
	})
	stop := runConsumer(t, cons)
	<-started
	returned := make(chan error, 1)
	go func() { returned <- stop() }()
	select {
	case <-returned:
		t.Fatal("Run returned while a handler was running")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if err := <-returned; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if queueLen(t, c, q) != 0 {
		t.Fatal("handled message not deleted during shutdown")
	}
}

func TestConsumerShutdownTimeout(t *testing.T) {
	_, c, q := setup(t)
	postN(t, q, 0, 1)
	started := make(chan struct{})
	var reported atomic.Bool
	cons, _ := comnorm.NewConsumer(c, q.ID, fastOpts(comnorm.WithShutdownTimeout(200*time.Millisecond), comnorm.WithOnError(func(error) { reported.Store(true) }))...)
	cons.OnMessage(func(ctx context.Context, e *comnorm.Event) error {
		close(started)
		<-ctx.Done() // a handler that only stops when told to
		return ctx.Err()
	})
	stop := runConsumer(t, cons)
	<-started
	start := time.Now()
	if err := stop(); err != nil || time.Since(start) > 2*time.Second {
		t.Fatalf("Run: %v after %v", err, time.Since(start))
	}
	if queueLen(t, c, q) != 1 || !reported.Load() {
		t.Fatal("unfinished message must stay in the queue and be reported")
	}
}

func TestConsumerPermanentRunErrors(t *testing.T) {
	_, c, q := setup(t)
	cons, _ := comnorm.NewConsumer(c, "no-such-queue", fastOpts()...)
	cons.OnMessage(func(context.Context, *comnorm.Event) error { return nil })
	if err := cons.Run(bg); !errors.Is(err, comnorm.ErrQueueNotFound) {
		t.Fatalf("unknown queue: %v", err)
	}
	noHandler, _ := comnorm.NewConsumer(c, q.ID)
	if err := noHandler.Run(bg); err == nil {
		t.Fatal("Run without handler succeeded")
	}
}

func TestConsumerGenericHandlerAndMiddleware(t *testing.T) {
	_, c, q := setup(t)
	postN(t, q, 0, 1)
	got := make(chan []byte, 1)
	var mwCalls atomic.Int32
	mw := func(next notifykit.Handler) notifykit.Handler {
		return notifykit.HandlerFunc(func(ctx context.Context, e notifykit.Event) error {
			mwCalls.Add(1)
			return next.HandleEvent(ctx, e)
		})
	}
	cons, _ := comnorm.NewConsumer(c, q.ID, fastOpts(
		comnorm.WithHandler(notifykit.HandlerFunc(func(ctx context.Context, e notifykit.Event) error {
			ce, err := notifykit.CloudEvent(e)
			if err != nil {
				return err
			}
			got <- ce
			return nil
		})),
		comnorm.WithMiddleware(notifykit.Recover(), mw))...)
	runConsumer(t, cons)
	var ce struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	select {
	case b := <-got:
		if err := json.Unmarshal(b, &ce); err != nil || ce.Type != "comnorm.message.received" || string(ce.Data) != `{"n":0}` {
			t.Fatalf("cloud event %s: %v", b, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no event")
	}
	if mwCalls.Load() != 1 {
		t.Fatalf("middleware called %d times", mwCalls.Load())
	}
}

func TestConsumerSurvivesTransientErrorsAndNoBusyLoop(t *testing.T) {
	var peeks, fails atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if peeks.Add(1) <= 3 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		// A server that ignores timeout and answers an empty array at once.
		_, _ = w.Write([]byte(`[]`))
	}))
	defer hs.Close()
	c, _ := comnorm.NewClient("pk-0123456789abcdef", comnorm.WithBaseURL(hs.URL), comnorm.WithRetry(1, nil))
	cons, _ := comnorm.NewConsumer(c, "q",
		comnorm.WithPollTimeout(10*time.Second),
		comnorm.WithMinPollInterval(100*time.Millisecond),
		comnorm.WithErrorBackoff(backoff.Constant(10*time.Millisecond)),
		comnorm.WithOnError(func(err error) {
			if errors.Is(err, comnorm.ErrUnavailable) {
				fails.Add(1)
			}
		}))
	cons.OnMessage(func(context.Context, *comnorm.Event) error { return nil })
	stop := runConsumer(t, cons)
	time.Sleep(600 * time.Millisecond)
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if fails.Load() != 3 {
		t.Fatalf("%d failures reported", fails.Load())
	}
	if n := peeks.Load(); n > 3+8 {
		t.Fatalf("%d peeks in 600ms: busy loop", n)
	}
}

func TestConsumerRunTwice(t *testing.T) {
	_, c, q := setup(t)
	cons, _ := comnorm.NewConsumer(c, q.ID, fastOpts()...)
	cons.OnMessage(func(context.Context, *comnorm.Event) error { return nil })
	runConsumer(t, cons)
	time.Sleep(50 * time.Millisecond)
	if err := cons.Run(bg); err == nil {
		t.Fatal("second concurrent Run accepted")
	}
	_ = fmt.Sprint()
}
