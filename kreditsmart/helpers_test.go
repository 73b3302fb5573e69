package kreditsmart_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/notifykit/notifykit/kreditsmart"
	"github.com/notifykit/notifykit/kreditsmart/kreditsmarttest"
)

// recorder collects what a subscriber delivers.
type recorder struct {
	mu     sync.Mutex
	notes  []*kreditsmart.Notification
	byID   map[string]int // Vorgangsnummer -> deliveries
	gaps   []*kreditsmart.Gap
	moves  []*kreditsmart.TopicChange
	errs   []error
	signal chan struct{}
}

func newRecorder() *recorder {
	return &recorder{byID: map[string]int{}, signal: make(chan struct{}, 1)}
}

func (r *recorder) poke() {
	select {
	case r.signal <- struct{}{}:
	default:
	}
}

func (r *recorder) handle(_ context.Context, n *kreditsmart.Notification) error {
	r.mu.Lock()
	r.notes = append(r.notes, n)
	r.byID[n.Vorgangsnummer]++
	r.mu.Unlock()
	r.poke()
	return nil
}

func (r *recorder) onError(err error) {
	r.mu.Lock()
	r.errs = append(r.errs, err)
	r.mu.Unlock()
	r.poke()
}

func (r *recorder) attach(s *kreditsmart.Subscriber) {
	s.OnNotification(r.handle)
	s.OnGap(func(_ context.Context, g *kreditsmart.Gap) {
		r.mu.Lock()
		r.gaps = append(r.gaps, g)
		r.mu.Unlock()
		r.poke()
	})
	s.OnTopicChange(func(_ context.Context, c *kreditsmart.TopicChange) {
		r.mu.Lock()
		r.moves = append(r.moves, c)
		r.mu.Unlock()
		r.poke()
	})
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.notes)
}

func (r *recorder) hasError(target error) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.errs {
		if errors.Is(e, target) {
			return true
		}
	}
	return false
}

// fastOpts makes reconnects quick for tests.
func fastOpts() []kreditsmart.Option {
	return []kreditsmart.Option{
		kreditsmart.WithReconnectBackoff(20*time.Millisecond, 200*time.Millisecond),
		kreditsmart.WithTimeouts(3*time.Second, 3*time.Second, 3*time.Second),
	}
}

// fakeSubscriber builds a subscriber for dev on srv reading its topic from
// the shadow.
func fakeSubscriber(t *testing.T, srv *kreditsmarttest.Server, dev *kreditsmarttest.Device, rec *recorder, opts ...kreditsmart.Option) *kreditsmart.Subscriber {
	t.Helper()
	all := append([]kreditsmart.Option{
		kreditsmart.WithClientCertificate(dev.Certificate),
		kreditsmart.WithRootCAs(srv.RootCAs()),
		kreditsmart.WithThing(dev.Name),
		kreditsmart.WithTopicPointer(kreditsmarttest.TopicPointer),
		kreditsmart.WithOnError(rec.onError),
	}, fastOpts()...)
	all = append(all, opts...)
	s, err := kreditsmart.NewSubscriber(srv.Endpoint(), dev.Name, all...)
	if err != nil {
		t.Fatal(err)
	}
	rec.attach(s)
	return s
}

// run starts s.Run and stops it at cleanup; the returned channel yields
// Run's result.
func run(t *testing.T, s *kreditsmart.Subscriber) (<-chan error, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() { done <- s.Run(ctx); close(finished) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return done, cancel
}
