package banqup_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/notifykit/notifykit/banqup"
	"github.com/notifykit/notifykit/banqup/banquptest"
)

func testLogger(t *testing.T) banqup.Option {
	return banqup.WithLogger(slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo})))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func uniqueQueue(t *testing.T) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "banqup-test-" + hex.EncodeToString(b)
}

// run starts c.Run and stops it when the test ends, failing the test if
// Run returned an error.
func run(t *testing.T, c *banqup.Consumer) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(60 * time.Second):
				t.Errorf("Run did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func publisher(t *testing.T, url string, opts ...banquptest.Option) *banquptest.Publisher {
	t.Helper()
	p, err := banquptest.NewPublisher(context.Background(), url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// stateWatcher reports the consumer's state changes on a channel.
func stateWatcher() (banqup.Option, <-chan banqup.State) {
	ch := make(chan banqup.State, 64)
	return banqup.WithOnStateChange(func(s banqup.State, _ error) {
		select {
		case ch <- s:
		default:
		}
	}), ch
}

func waitState(t *testing.T, ch <-chan banqup.State, want banqup.State) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case s := <-ch:
			if s == want {
				return
			}
		case <-timeout:
			t.Fatalf("consumer never reached state %v", want)
		}
	}
}

// drain fetches every message currently in queue.
func drain(t *testing.T, url, queue string) []amqp.Delivery {
	t.Helper()
	conn, err := amqp.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	var out []amqp.Delivery
	for {
		d, ok, err := ch.Get(queue, true)
		if err != nil {
			t.Fatalf("get %s: %v", queue, err)
		}
		if !ok {
			return out
		}
		out = append(out, d)
	}
}

func queueDepth(t *testing.T, url, queue string) int {
	t.Helper()
	conn, err := amqp.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	q, err := ch.QueueDeclarePassive(queue, true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	return q.Messages
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// idSet is a concurrency-safe set of handled ids.
type idSet struct {
	mu    sync.Mutex
	ids   map[string]int
	calls int
}

func newIDSet() *idSet { return &idSet{ids: map[string]int{}} }

func (s *idSet) add(id string) {
	s.mu.Lock()
	s.ids[id]++
	s.calls++
	s.mu.Unlock()
}

func (s *idSet) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ids)
}

func (s *idSet) count(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ids[id]
}

func (s *idSet) has(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ids[id] > 0
}

func TestConsumeEveryStreamEndToEnd(t *testing.T) {
	b := rabbit(t)
	queue := uniqueQueue(t)
	watch, states := stateWatcher()
	c, err := banqup.NewConsumer(b.URL, queue, watch, banqup.WithOnError(func(err error) { t.Log("OnError:", err) }))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	got := map[string]banqup.Event{}
	record := func(e banqup.Event) error {
		mu.Lock()
		got[e.ID()] = e
		mu.Unlock()
		return nil
	}
	c.OnAccount(func(_ context.Context, e *banqup.AccountEvent) error { return record(e) })
	c.OnTransaction(func(_ context.Context, e *banqup.TransactionEvent) error { return record(e) })
	c.OnSessionFinished(func(_ context.Context, e *banqup.SessionFinishedEvent) error { return record(e) })
	c.OnConsent(func(_ context.Context, e *banqup.ConsentEvent) error { return record(e) })
	c.OnAspspCall(func(_ context.Context, e *banqup.AspspCallEvent) error { return record(e) })
	stop := run(t, c)
	// The consumer must declare and bind before banqUP publishes.
	waitState(t, states, banqup.StateConsuming)

	want := map[string]banqup.Stream{}
	for _, ser := range []banquptest.Serializer{banquptest.SystemTextJSON, banquptest.Newtonsoft} {
		p := publisher(t, b.URL, banquptest.WithSerializer(ser))
		for _, s := range banqup.Streams() {
			id, err := p.Publish(context.Background(), s, banquptest.Fixture(s))
			if err != nil {
				t.Fatal(err)
			}
			want[id] = s
		}
	}
	eventually(t, 30*time.Second, "all messages handled", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == len(want)
	})
	stop()
	for id, s := range want {
		e := got[id]
		if e.Stream() != s {
			t.Errorf("%s: stream %s, want %s", id, e.Stream(), s)
		}
		if e.Raw().Exchange != s.Exchange() || e.Raw().ContentType != banqup.ContentTypeEnvelope {
			t.Errorf("%s: delivery %+v", id, e.Raw())
		}
	}
	if n := queueDepth(t, b.URL, queue); n != 0 {
		t.Errorf("%d messages left in the queue after all were handled", n)
	}
	if n := len(drain(t, b.URL, queue+"_error")) + len(drain(t, b.URL, queue+"_skipped")); n != 0 {
		t.Errorf("%d messages in error/skipped queues", n)
	}
}

var errFlaky = errors.New("flaky handler")
