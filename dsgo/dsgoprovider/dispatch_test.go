package dsgoprovider_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/notifykit/notifykit/dsgo"
	"github.com/notifykit/notifykit/dsgo/dsgoprovider"
)

// countingHook records how often each notification id arrived.
type countingHook struct {
	*httptest.Server
	mu   sync.Mutex
	seen map[string]int
}

func newCountingHook(t *testing.T, delay time.Duration) *countingHook {
	h := &countingHook{seen: map[string]int{}}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var n dsgo.Notification
		if err := json.Unmarshal(b, &n); err != nil {
			w.WriteHeader(400)
			return
		}
		time.Sleep(delay)
		h.mu.Lock()
		h.seen[n.ID]++
		h.mu.Unlock()
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *countingHook) counts() (unique, dups int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.seen {
		unique++
		dups += c - 1
	}
	return unique, dups
}

func seedSubscription(t *testing.T, s dsgoprovider.Store, url string) {
	now := time.Now()
	if err := s.CreateSubscription(context.Background(), &dsgo.Subscription{ID: "sub_1", ConsumerID: consumerID,
		Status: dsgo.StatusActive, EventTypes: []string{"Modified"}, WebhookURL: url,
		CreatedDate: dsgo.Unix(now), StartDate: dsgo.Unix(now.Add(-time.Second))}); err != nil {
		t.Fatal(err)
	}
}

func testServer(t *testing.T, s dsgoprovider.Store, opts ...dsgoprovider.Option) *dsgoprovider.Server {
	srv, err := dsgoprovider.New("EU.EORI.NL000000042", sharedPKI(t).Pool(), s, append([]dsgoprovider.Option{
		dsgoprovider.WithWebhookAuth(dsgoprovider.NoWebhookAuth()), dsgoprovider.WithAllowPrivateTargets(),
		dsgoprovider.WithAllowHTTPWebhooks(), dsgoprovider.WithPollInterval(10 * time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// Two dispatcher instances on one store (as with a shared database): every
// notification is delivered, none twice.
func TestTwoDispatchersShareOneOutbox(t *testing.T) {
	store := dsgoprovider.NewMemoryStore()
	hook := newCountingHook(t, time.Millisecond)
	seedSubscription(t, store, hook.URL)
	a, b := testServer(t, store), testServer(t, store)
	const n = 300
	for range n {
		if _, err := a.Publish(context.Background(), dsgo.Event{EventType: "Modified"}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, s := range []*dsgoprovider.Server{a, b} {
		wg.Go(func() { _ = s.Run(ctx) })
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if u, _ := hook.counts(); u == n || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	unique, dups := hook.counts()
	if unique != n || dups != 0 {
		t.Fatalf("%d of %d notifications delivered, %d duplicates", unique, n, dups)
	}
	ds, _ := store.ListDeliveries(context.Background(), "sub_1")
	for _, d := range ds {
		if d.State != dsgoprovider.DeliveryDelivered || d.Attempts != 1 {
			t.Fatalf("%+v", d)
		}
	}
}

// Stopping Run lets the attempt in flight finish and records it: nothing
// is left claimed and nothing is lost.
func TestRunDrainsInFlightAttempts(t *testing.T) {
	store := dsgoprovider.NewMemoryStore()
	hook := newCountingHook(t, 300*time.Millisecond)
	seedSubscription(t, store, hook.URL)
	srv := testServer(t, store)
	ids, err := srv.Publish(context.Background(), dsgo.Event{EventType: "Modified"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	time.Sleep(100 * time.Millisecond) // the attempt is now waiting on the hook
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
	d, _ := store.GetDelivery(context.Background(), ids[0])
	if d.State != dsgoprovider.DeliveryDelivered || d.ClaimToken != "" {
		t.Fatalf("in-flight attempt not recorded: %+v", d)
	}
}
