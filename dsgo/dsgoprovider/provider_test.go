package dsgoprovider_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notifykit/notifykit/dsgo"
	"github.com/notifykit/notifykit/dsgo/dsgoprovider"
	"github.com/notifykit/notifykit/dsgo/dsgotest"
	"github.com/notifykit/notifykit/internal/backoff"
)

const consumerID = "EU.EORI.NL000123456"

var (
	pkiOnce sync.Once
	testPKI *dsgotest.PKI
)

// sharedPKI saves RSA key generation across tests.
func sharedPKI(t *testing.T) *dsgotest.PKI {
	pkiOnce.Do(func() {
		var err error
		if testPKI, err = dsgotest.NewPKI(); err != nil {
			panic(err)
		}
	})
	return testPKI
}

// inbox is a consumer webhook: a real dsgo.Receiver on httptest that
// records events and can be told to fail.
type inbox struct {
	*httptest.Server
	mu     sync.Mutex
	events []*dsgo.Event
	status atomic.Int32 // when non-zero, answer this instead of handling
	hits   atomic.Int32
	got    chan string
}

func newInbox(t *testing.T, p *dsgotest.Provider) *inbox {
	t.Helper()
	in := &inbox{got: make(chan string, 100)}
	r, err := dsgo.NewReceiver(consumerID, p.ReceiverAuth(t, consumerID))
	if err != nil {
		t.Fatal(err)
	}
	r.OnEvent(func(_ context.Context, e *dsgo.Event) error {
		in.mu.Lock()
		in.events = append(in.events, e)
		in.mu.Unlock()
		in.got <- e.Notification.ID
		return nil
	})
	in.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		in.hits.Add(1)
		if s := in.status.Load(); s != 0 {
			w.WriteHeader(int(s))
			return
		}
		r.ServeHTTP(w, req)
	}))
	t.Cleanup(in.Close)
	return in
}

func (in *inbox) wait(t *testing.T) string {
	t.Helper()
	select {
	case id := <-in.got:
		return id
	case <-time.After(10 * time.Second):
		t.Fatal("no notification arrived")
		return ""
	}
}

func TestSubscriptionLifecycleRoundTrip(t *testing.T) {
	p := dsgotest.NewProvider(t, dsgotest.WithPKI(sharedPKI(t)),
		dsgotest.WithServerOptions(dsgoprovider.WithEventTypes("Modified", "Deleted", dsgoprovider.TestEventType)))
	in := newInbox(t, p)
	creds := p.Consumer(t, consumerID)
	c := p.Client(t, creds)
	ctx := context.Background()

	sub, err := c.Subscriptions.Create(ctx, dsgo.SubscriptionCreate{EventTypes: []string{"Modified"}, WebhookURL: in.URL + "/hook",
		Description: "watch records"})
	if err != nil {
		t.Fatal(err)
	}
	if sub.Status != dsgo.StatusActive || sub.ConsumerID != consumerID || sub.ProviderID != p.ID ||
		sub.URL != "/subscriptions/"+sub.ID || sub.CreatedDate.IsZero() || sub.StartDate.IsZero() {
		t.Fatalf("created: %+v", sub)
	}
	got, err := c.Subscriptions.Get(ctx, sub.ID)
	if err != nil || got.ID != sub.ID || got.Description != "watch records" {
		t.Fatalf("get: %+v %v", got, err)
	}
	list, err := c.Subscriptions.List(ctx)
	if err != nil || list.Count != 1 || list.Subscriptions[0].ID != sub.ID {
		t.Fatalf("list: %+v %v", list, err)
	}

	// Test notification: 202 with the event, then it arrives.
	ev, err := c.Subscriptions.Test(ctx, sub.ID)
	if err != nil || ev == nil || ev.EventType != "Test" {
		t.Fatalf("test: %+v %v", ev, err)
	}
	in.wait(t)

	// A published event reaches the subscriber, one not subscribed does not.
	ids, err := p.Publish(ctx, dsgo.Event{EventType: "Modified", Data: json.RawMessage(`"record 7 changed"`)},
		dsgo.Event{EventType: "Deleted"})
	if err != nil || len(ids) != 1 {
		t.Fatalf("publish: %v %v", ids, err)
	}
	if id := in.wait(t); id != ids[0] {
		t.Fatalf("got notification %s, want %s", id, ids[0])
	}
	d := p.WaitDelivery(t, ids[0], 5*time.Second)
	if d.State != dsgoprovider.DeliveryDelivered || d.Attempts != 1 || d.LastStatus != 200 {
		t.Fatalf("delivery: %+v", d)
	}
	in.mu.Lock()
	last := in.events[len(in.events)-1]
	in.mu.Unlock()
	if last.EventType != "Modified" || last.DataText() != "record 7 changed" || last.Subject() != sub.ID {
		t.Fatalf("event: %+v", last)
	}

	// Another consumer sees nothing and cannot delete.
	other := p.Client(t, p.Consumer(t, "EU.EORI.NL000999999"))
	if l, err := other.Subscriptions.List(ctx); err != nil || l.Count != 0 {
		t.Fatalf("other's list: %+v %v", l, err)
	}
	if err := other.Subscriptions.Delete(ctx, sub.ID); !errors.Is(err, dsgo.ErrNotFound) {
		t.Fatalf("other's delete: %v", err)
	}

	// DELETE: 200 without body, soft delete, then 404.
	if err := c.Subscriptions.Delete(ctx, sub.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.Subscriptions.Delete(ctx, sub.ID); !errors.Is(err, dsgo.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if got, err := c.Subscriptions.Get(ctx, sub.ID); err != nil || got.Status != dsgo.StatusInactive || got.EndDate.IsZero() {
		t.Fatalf("after delete: %+v %v", got, err)
	}
	if ids, _ := p.Publish(ctx, dsgo.Event{EventType: "Modified"}); len(ids) != 0 {
		t.Fatalf("inactive subscription notified: %v", ids)
	}
	if _, err := c.Subscriptions.Get(ctx, "sub_nope"); !errors.Is(err, dsgo.ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}
	if errs := p.Errors(); len(errs) != 0 {
		t.Fatalf("provider errors: %v", errs)
	}
}

func TestProviderRejectsBadRequests(t *testing.T) {
	p := dsgotest.NewProvider(t, dsgotest.WithPKI(sharedPKI(t)), dsgotest.WithServerOptions(dsgoprovider.WithEventTypes("Modified")))
	ctx := context.Background()
	c := p.Client(t, p.Consumer(t, consumerID))
	for name, req := range map[string]dsgo.SubscriptionCreate{
		"unknown event type": {EventTypes: []string{"Exploded"}, WebhookURL: "https://consumer.example/hook"},
		"relative webhook":   {EventTypes: []string{"Modified"}, WebhookURL: "/hook"},
		"ftp webhook":        {EventTypes: []string{"Modified"}, WebhookURL: "ftp://consumer.example/hook"},
		"credentials in URL": {EventTypes: []string{"Modified"}, WebhookURL: "https://u:p@consumer.example/hook"},
		"end in the past":    {EventTypes: []string{"Modified"}, WebhookURL: "https://consumer.example/hook", EndDate: dsgo.Unix(time.Now().Add(-time.Hour))},
	} {
		var apiErr *dsgo.APIError
		if _, err := c.Subscriptions.Create(ctx, req); !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.OAuth == nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A hand-written body without resource_type (required by the spec).
	tok, err := c.TokenSource().Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := http.NewRequest(http.MethodPost, p.URL+"/subscriptions", strings.NewReader(`{"event_type":["Modified"],"webhook_url":"https://consumer.example/hook"}`))
	raw.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(raw)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("create without resource_type: %d", resp.StatusCode)
	}
	anon, _ := dsgo.NewClient(p.URL)
	if _, err := anon.Subscriptions.List(ctx); !errors.Is(err, dsgo.ErrUnauthorized) {
		t.Fatalf("anonymous list: %v", err)
	}
	forged, _ := dsgo.NewClient(p.URL, dsgo.WithTokenSource(dsgo.StaticToken("forged")))
	if _, err := forged.Subscriptions.List(ctx); !errors.Is(err, dsgo.ErrUnauthorized) {
		t.Fatalf("forged token: %v", err)
	}
	// A strict provider without the private-network allowance refuses
	// loopback and private webhook targets up front.
	strict, err := dsgoprovider.New("EU.EORI.NL000000042", p.PKI.Pool(), dsgoprovider.NewMemoryStore(),
		dsgoprovider.WithWebhookAuth(dsgoprovider.NoWebhookAuth()), dsgoprovider.WithAllowHTTPWebhooks())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(strict)
	t.Cleanup(srv.Close)
	sc, _ := dsgo.NewClient(srv.URL, dsgo.WithCredentials(p.Consumer(t, consumerID), "EU.EORI.NL000000042"))
	for _, u := range []string{"http://127.0.0.1:8080/hook", "http://10.1.2.3/hook", "http://[::1]/hook", "http://169.254.169.254/latest", "http://localhost/x"} {
		if _, err := sc.Subscriptions.Create(ctx, dsgo.SubscriptionCreate{EventTypes: []string{"A"}, WebhookURL: u}); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
	if _, err := sc.Subscriptions.Create(ctx, dsgo.SubscriptionCreate{EventTypes: []string{"A"}, WebhookURL: "https://consumer.example/hook"}); err != nil {
		t.Fatalf("public https webhook refused: %v", err)
	}
}

func TestClientRefreshesTokenOnceOn401(t *testing.T) {
	p := dsgotest.NewProvider(t, dsgotest.WithPKI(sharedPKI(t)))
	var tokenCalls atomic.Int32
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/connect/token" {
			tokenCalls.Add(1)
		}
		p.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	c, err := dsgo.NewClient(front.URL, dsgo.WithCredentials(p.Consumer(t, consumerID), p.ID))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Subscriptions.List(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Subscriptions.List(ctx); err != nil || tokenCalls.Load() != 1 {
		t.Fatalf("token not cached: %d calls, %v", tokenCalls.Load(), err)
	}
	// The provider forgets the token (restart, revocation): one 401, one
	// refresh, success.
	tok, _ := c.TokenSource().Token(ctx)
	_ = p.TokenEndpoint().Revoke(ctx, tok)
	if _, err := c.Subscriptions.List(ctx); err != nil || tokenCalls.Load() != 2 {
		t.Fatalf("after revocation: %d token calls, %v", tokenCalls.Load(), err)
	}
}

func TestClientRetriesRateLimits(t *testing.T) {
	p := dsgotest.NewProvider(t, dsgotest.WithPKI(sharedPKI(t)))
	var busy atomic.Int32
	busy.Store(2)
	var seen []string
	var mu sync.Mutex
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/subscriptions" && busy.Add(-1) >= 0 {
			mu.Lock()
			seen = append(seen, time.Now().Format(time.RFC3339Nano))
			mu.Unlock()
			if busy.Load() == 1 {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		p.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	c, _ := dsgo.NewClient(front.URL, dsgo.WithCredentials(p.Consumer(t, consumerID), p.ID),
		dsgo.WithRetry(3, backoff.Constant(10*time.Millisecond)))
	start := time.Now()
	if _, err := c.Subscriptions.List(context.Background()); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < time.Second {
		t.Fatalf("Retry-After: 1 not honoured (%v)", el)
	}
	// Always busy: gives up after the configured attempts with the error.
	busy.Store(100)
	_, err := c.Subscriptions.List(context.Background())
	var apiErr *dsgo.APIError
	if !errors.Is(err, dsgo.ErrRateLimited) || !errors.As(err, &apiErr) {
		t.Fatalf("got %v", err)
	}
	if n := 100 - busy.Load(); n != 3 {
		t.Fatalf("%d attempts, want 3", n)
	}
}

func TestDispatcherRetriesThenDelivers(t *testing.T) {
	p := dsgotest.NewProvider(t, dsgotest.WithPKI(sharedPKI(t)))
	in := newInbox(t, p)
	c := p.Client(t, p.Consumer(t, consumerID))
	ctx := context.Background()
	sub, err := c.Subscriptions.Create(ctx, dsgo.SubscriptionCreate{EventTypes: []string{"Modified"}, WebhookURL: in.URL})
	if err != nil {
		t.Fatal(err)
	}
	in.status.Store(503)
	ids, err := p.Publish(ctx, dsgo.Event{EventType: "Modified"})
	if err != nil {
		t.Fatal(err)
	}
	for in.hits.Load() < 2 {
		time.Sleep(5 * time.Millisecond)
	}
	in.status.Store(0)
	if got := in.wait(t); got != ids[0] {
		t.Fatalf("got %s", got)
	}
	d := p.WaitDelivery(t, ids[0], 5*time.Second)
	att, _ := p.Store().Attempts(ctx, ids[0])
	if d.State != dsgoprovider.DeliveryDelivered || d.Attempts < 3 || len(att) != d.Attempts ||
		att[0].StatusCode != 503 || att[len(att)-1].StatusCode != 200 {
		t.Fatalf("delivery %+v attempts %+v", d, att)
	}
	// Same notification id (and body) on every attempt: the receiver's
	// dedupe relies on it.
	dl, _ := p.Store().ListDeliveries(ctx, sub.ID)
	if len(dl) != 1 {
		t.Fatalf("deliveries: %d", len(dl))
	}

	// Permanent refusal: one attempt, failed, reported.
	in.status.Store(400)
	ids, _ = p.Publish(ctx, dsgo.Event{EventType: "Modified"})
	d = p.WaitDelivery(t, ids[0], 5*time.Second)
	if d.State != dsgoprovider.DeliveryFailed || d.Attempts != 1 || d.LastStatus != 400 {
		t.Fatalf("400: %+v", d)
	}
	// Exhausted: 5 attempts (dsgotest's limit), failed, reported.
	in.status.Store(500)
	ids, _ = p.Publish(ctx, dsgo.Event{EventType: "Modified"})
	d = p.WaitDelivery(t, ids[0], 5*time.Second)
	if d.State != dsgoprovider.DeliveryFailed || d.Attempts != 5 {
		t.Fatalf("500: %+v", d)
	}
	var failed []string
	for _, err := range p.Errors() {
		var de *dsgoprovider.DeliveryError
		if errors.As(err, &de) {
			failed = append(failed, de.NotificationID)
		}
	}
	if len(failed) != 2 {
		t.Fatalf("DeliveryErrors for %v, want 2", failed)
	}
}

func TestDispatcherStopsForInactiveSubscription(t *testing.T) {
	p := dsgotest.NewProvider(t, dsgotest.WithPKI(sharedPKI(t)),
		dsgotest.WithServerOptions(dsgoprovider.WithRetry(100, backoff.Constant(50*time.Millisecond))))
	in := newInbox(t, p)
	in.status.Store(503)
	c := p.Client(t, p.Consumer(t, consumerID))
	ctx := context.Background()
	sub, err := c.Subscriptions.Create(ctx, dsgo.SubscriptionCreate{EventTypes: []string{"Modified"}, WebhookURL: in.URL})
	if err != nil {
		t.Fatal(err)
	}
	ids, _ := p.Publish(ctx, dsgo.Event{EventType: "Modified"})
	for in.hits.Load() < 1 {
		time.Sleep(5 * time.Millisecond)
	}
	if err := c.Subscriptions.Delete(ctx, sub.ID); err != nil {
		t.Fatal(err)
	}
	d := p.WaitDelivery(t, ids[0], 5*time.Second)
	if d.State != dsgoprovider.DeliveryCancelled {
		t.Fatalf("%+v", d)
	}
}

func TestDispatcherRefusesPrivateTargets(t *testing.T) {
	var hits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(target.Close)
	var reported []error
	var mu sync.Mutex
	store := dsgoprovider.NewMemoryStore()
	srv, err := dsgoprovider.New("EU.EORI.NL000000042", sharedPKI(t).Pool(), store,
		dsgoprovider.WithWebhookAuth(dsgoprovider.NoWebhookAuth()),
		dsgoprovider.WithOnError(func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() }))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// The subscription is put in the store directly: this is the
	// dial-time guard, for names that resolve to private addresses after
	// the subscription was accepted.
	now := time.Now()
	sub := &dsgo.Subscription{ID: "sub_1", ConsumerID: consumerID, ProviderID: "EU.EORI.NL000000042", Status: dsgo.StatusActive,
		EventTypes: []string{"Modified"}, WebhookURL: target.URL, CreatedDate: dsgo.Unix(now), StartDate: dsgo.Unix(now.Add(-time.Second))}
	if err := store.CreateSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	ids, err := srv.Publish(ctx, dsgo.Event{EventType: "Modified"})
	if err != nil || len(ids) != 1 {
		t.Fatalf("%v %v", ids, err)
	}
	if n, err := srv.DispatchOnce(ctx); n != 1 || err != nil {
		t.Fatalf("dispatch: %d %v", n, err)
	}
	d, _ := store.GetDelivery(ctx, ids[0])
	if d.State != dsgoprovider.DeliveryFailed || d.Attempts != 1 || hits.Load() != 0 {
		t.Fatalf("loopback target reached or retried: %+v hits=%d", d, hits.Load())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reported) != 1 || !errors.Is(reported[0], dsgoprovider.ErrForbiddenTarget) {
		t.Fatalf("reported %v", reported)
	}
}

func TestBoltOutboxSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "provider.db")
	pk := sharedPKI(t)
	var hits atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var n dsgo.Notification
		if json.Unmarshal(b, &n) == nil {
			hits.Add(1)
		}
	}))
	t.Cleanup(hook.Close)
	newServer := func(s dsgoprovider.Store) *dsgoprovider.Server {
		srv, err := dsgoprovider.New("EU.EORI.NL000000042", pk.Pool(), s, dsgoprovider.WithWebhookAuth(dsgoprovider.NoWebhookAuth()),
			dsgoprovider.WithAllowPrivateTargets(), dsgoprovider.WithAllowHTTPWebhooks())
		if err != nil {
			t.Fatal(err)
		}
		return srv
	}
	ctx := context.Background()
	s1, err := dsgoprovider.OpenBoltStore(path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	_ = s1.CreateSubscription(ctx, &dsgo.Subscription{ID: "sub_1", ConsumerID: consumerID, Status: dsgo.StatusActive,
		EventTypes: []string{"Modified"}, WebhookURL: hook.URL, CreatedDate: dsgo.Unix(now), StartDate: dsgo.Unix(now.Add(-time.Second))})
	ids, err := newServer(s1).Publish(ctx, dsgo.Event{EventType: "Modified"}, dsgo.Event{EventType: "Modified"})
	if err != nil || len(ids) != 1 {
		t.Fatalf("%v %v", ids, err)
	}
	_ = s1.Close() // "crash" before any dispatch

	s2, err := dsgoprovider.OpenBoltStore(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s2.Close() })
	if n, err := newServer(s2).DispatchOnce(ctx); n != 1 || err != nil {
		t.Fatalf("after restart: %d %v", n, err)
	}
	d, _ := s2.GetDelivery(ctx, ids[0])
	if d.State != dsgoprovider.DeliveryDelivered || hits.Load() != 1 {
		t.Fatalf("%+v hits=%d", d, hits.Load())
	}
	var n dsgo.Notification
	if err := json.Unmarshal(d.Body, &n); err != nil || len(n.Events) != 2 || !slices.ContainsFunc(n.Events, func(e *dsgo.Event) bool { return e.EventType == "Modified" }) {
		t.Fatalf("body: %s", d.Body)
	}
}

func TestRunExpiresSubscriptions(t *testing.T) {
	var offset atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	p := dsgotest.NewProvider(t, dsgotest.WithPKI(sharedPKI(t)), dsgotest.WithServerOptions(dsgoprovider.WithClock(clock)))
	c := p.Client(t, p.Consumer(t, consumerID))
	ctx := context.Background()
	sub, err := c.Subscriptions.Create(ctx, dsgo.SubscriptionCreate{EventTypes: []string{"Modified"},
		WebhookURL: "https://consumer.example/hook", EndDate: dsgo.Unix(time.Now().Add(time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	offset.Store(int64(2 * time.Hour))
	deadline := time.Now().Add(5 * time.Second)
	for {
		s, err := p.Store().GetSubscription(ctx, sub.ID)
		if err != nil {
			t.Fatal(err)
		}
		if s.Status == dsgo.StatusInactive {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("subscription past its end_date still active")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if ids, _ := p.Publish(ctx, dsgo.Event{EventType: "Modified"}); len(ids) != 0 {
		t.Fatalf("expired subscription notified: %v", ids)
	}
}

func TestOASDialectRoundTrip(t *testing.T) {
	p := dsgotest.NewProvider(t, dsgotest.WithPKI(sharedPKI(t)), dsgotest.WithServerOptions(dsgoprovider.WithDialect(dsgo.DialectOAS)))
	in := newInbox(t, p)
	c := p.Client(t, p.Consumer(t, consumerID))
	ctx := context.Background()
	sub, err := c.Subscriptions.Create(ctx, dsgo.SubscriptionCreate{EventTypes: []string{"Modified"}, WebhookURL: in.URL})
	if err != nil || sub.URL == "" {
		t.Fatalf("create (href only in OAS): %+v %v", sub, err)
	}
	ids, _ := p.Publish(ctx, dsgo.Event{EventType: "Modified", Data: json.RawMessage(`{"record":7}`)})
	in.wait(t)
	d := p.WaitDelivery(t, ids[0], 5*time.Second)
	for _, k := range []string{`"subscriptionId"`, `"dateTime"`, `"eventData":{"record":7}`, `"class"`} {
		if !strings.Contains(string(d.Body), k) {
			t.Errorf("OAS body lacks %s: %s", k, d.Body)
		}
	}
}

func TestWebhookErrorsDoNotLeakQuery(t *testing.T) {
	store := dsgoprovider.NewMemoryStore()
	srv, _ := dsgoprovider.New("EU.EORI.NL000000042", sharedPKI(t).Pool(), store,
		dsgoprovider.WithWebhookAuth(dsgoprovider.NoWebhookAuth()), dsgoprovider.WithAllowPrivateTargets(),
		dsgoprovider.WithAllowHTTPWebhooks(), dsgoprovider.WithAttemptTimeout(2*time.Second))
	ctx := context.Background()
	now := time.Now()
	// Port 1 on loopback: connection refused.
	_ = store.CreateSubscription(ctx, &dsgo.Subscription{ID: "sub_1", ConsumerID: consumerID, Status: dsgo.StatusActive,
		EventTypes: []string{"Modified"}, WebhookURL: "http://127.0.0.1:1/hook?token=s3cret", CreatedDate: dsgo.Unix(now),
		StartDate: dsgo.Unix(now.Add(-time.Second))})
	ids, _ := srv.Publish(ctx, dsgo.Event{EventType: "Modified"})
	if _, err := srv.DispatchOnce(ctx); err != nil {
		t.Fatal(err)
	}
	d, _ := store.GetDelivery(ctx, ids[0])
	att, _ := store.Attempts(ctx, ids[0])
	if d.LastError == "" || strings.Contains(d.LastError, "s3cret") || len(att) != 1 || strings.Contains(att[0].Error, "s3cret") {
		t.Fatalf("error %q / %+v", d.LastError, att)
	}
	if d.State != dsgoprovider.DeliveryPending || d.Attempts != 1 {
		t.Fatalf("network error not scheduled for retry: %+v", d)
	}
}
