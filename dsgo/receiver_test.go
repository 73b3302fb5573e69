package dsgo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notifykit/notifykit/dsgo"
)

func notificationBody(t testing.TB, id, provider string, events ...string) []byte {
	t.Helper()
	n := &dsgo.Notification{ID: id, Date: dsgo.Unix(time.Now()), ConsumerID: consumerID, ProviderID: provider,
		SubscriptionID: "sub_1"}
	for _, e := range events {
		n.Events = append(n.Events, &dsgo.Event{EventID: e, EventType: "Modified", Date: dsgo.Unix(time.Now()),
			Data: json.RawMessage(`"record ` + e + ` changed"`)})
	}
	b, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// recorder is a handler that records event ids and fails those listed in
// fail (once each).
type recorder struct {
	mu   sync.Mutex
	seen []string
	fail map[string]bool
}

func (r *recorder) handle(_ context.Context, e *dsgo.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail[e.EventID] {
		delete(r.fail, e.EventID)
		return errors.New("database down")
	}
	r.seen = append(r.seen, e.ID())
	return nil
}

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

func post(t testing.TB, h http.Handler, body []byte, auth string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestReceiverStaticBearer(t *testing.T) {
	rec := &recorder{fail: map[string]bool{"e2": true}}
	var asyncErrs []error
	r, err := dsgo.NewReceiver(consumerID, dsgo.StaticBearer("s3cret"), dsgo.WithOnError(func(err error) { asyncErrs = append(asyncErrs, err) }))
	if err != nil {
		t.Fatal(err)
	}
	r.OnEvent(rec.handle)
	body := notificationBody(t, "not_1", providerID, "e1", "e2", "e3")

	for _, c := range []struct {
		name, auth string
		body       []byte
		want       int
	}{
		{"no auth", "", body, 401},
		{"wrong token", "Bearer nope", body, 401},
		{"basic scheme", "Basic czNjcmV0", body, 401},
		{"not a notification", "Bearer s3cret", []byte(`{"hello":1}`), 400},
		{"not json", "Bearer s3cret", []byte(`<xml/>`), 400},
		{"other consumer", "Bearer s3cret", bytes.Replace(body, []byte(consumerID), []byte("EU.EORI.NL000000001"), 1), 400},
	} {
		if w := post(t, r, c.body, c.auth); w.Code != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, w.Code, w.Body, c.want)
		}
	}
	if len(rec.got()) != 0 {
		t.Fatalf("handler called for refused requests: %v", rec.got())
	}

	// e2 fails: 500, e1 handled; the provider's retry handles e2 and e3
	// without redoing e1; a third delivery is a pure duplicate.
	if w := post(t, r, body, "bearer s3cret"); w.Code != 500 {
		t.Fatalf("handler failure answered %d", w.Code)
	}
	if len(asyncErrs) != 1 {
		t.Fatalf("OnError saw %d errors", len(asyncErrs))
	}
	if w := post(t, r, body, "Bearer s3cret"); w.Code != 200 {
		t.Fatalf("retry answered %d %s", w.Code, w.Body)
	}
	if w := post(t, r, body, "Bearer s3cret"); w.Code != 200 {
		t.Fatalf("duplicate answered %d", w.Code)
	}
	want := []string{"not_1/e1", "not_1/e2", "not_1/e3"}
	if got := rec.got(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("handled %v, want %v", got, want)
	}

	get := httptest.NewRequest(http.MethodGet, "/webhook", nil)
	w := httptest.NewRecorder()
	r.ServeHTTP(w, get)
	if w.Code != 405 || w.Header().Get("Allow") != "POST" {
		t.Fatalf("GET: %d", w.Code)
	}
}

func TestReceiverBodyLimitAndPanic(t *testing.T) {
	r, _ := dsgo.NewReceiver(consumerID, dsgo.AllowUnauthenticated(), dsgo.WithMaxBodyBytes(512))
	r.OnEvent(func(context.Context, *dsgo.Event) error { panic("boom") })
	big := notificationBody(t, "not_big", providerID, strings.Repeat("x", 600))
	if w := post(t, r, big, ""); w.Code != 413 {
		t.Fatalf("oversized body: %d", w.Code)
	}
	if w := post(t, r, notificationBody(t, "n", providerID, "e"), ""); w.Code != 500 {
		t.Fatalf("panicking handler: %d", w.Code)
	}
}

func TestReceiverOASSpelling(t *testing.T) {
	rec := &recorder{}
	r, _ := dsgo.NewReceiver(consumerID, dsgo.AllowUnauthenticated(), dsgo.WithoutDedupe())
	r.OnEvent(rec.handle)
	body := `{"id":"not_9","class":"object","dateTime":1663752217,"consumer_id":"` + consumerID + `",
	 "provider_id":"` + providerID + `","subscriptionId":"sub_1","description":"d",
	 "event":{"id":"eve_9","class":"event","event_type":"Deleted","dateTime":"2022-09-21T09:23:48Z","description":"d","eventData":"gone"}}`
	for range 2 {
		if w := post(t, r, []byte(body), ""); w.Code != 200 {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	}
	if got := rec.got(); len(got) != 2 || got[0] != "not_9/eve_9" {
		t.Fatalf("without dedupe both deliveries reach the handler: %v", got)
	}
}

func TestReceiverBearerFromOwnTokenEndpoint(t *testing.T) {
	f := pki(t)
	// The consumer runs a token endpoint; the provider fetches a token
	// there (aud = consumer) and calls the webhook with it.
	ts := newTokenServer(t, consumerID)
	rec := &recorder{}
	r, _ := dsgo.NewReceiver(consumerID, dsgo.BearerFromTokenEndpoint(ts.te))
	r.OnEvent(rec.handle)
	src, err := dsgo.NewISHARETokenSource(ts.URL, consumerID, f.provider)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := src.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if w := post(t, r, notificationBody(t, "n1", providerID, "e"), "Bearer "+tok); w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if w := post(t, r, notificationBody(t, "n2", "EU.EORI.NL000000002", "e"), "Bearer "+tok); w.Code != 403 {
		t.Fatalf("notification in another provider's name: %d", w.Code)
	}
	if w := post(t, r, notificationBody(t, "n3", providerID, "e"), "Bearer forged"); w.Code != 401 {
		t.Fatalf("unknown token: %d", w.Code)
	}
	_ = ts.te.Revoke(context.Background(), tok)
	if w := post(t, r, notificationBody(t, "n4", providerID, "e"), "Bearer "+tok); w.Code != 401 {
		t.Fatalf("revoked token: %d", w.Code)
	}
}

func TestReceiverSignedAssertion(t *testing.T) {
	f := pki(t)
	v, _ := dsgo.NewAssertionVerifier(consumerID, f.pki.Pool())
	rec := &recorder{}
	r, _ := dsgo.NewReceiver(consumerID, dsgo.SignedAssertion(v))
	r.OnEvent(rec.handle)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)

	send := func(body []byte, sign func(*http.Request)) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		sign(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	var replay string
	ok := func(req *http.Request) {
		if err := dsgo.Sign(req, f.provider, consumerID); err != nil {
			t.Fatal(err)
		}
		replay = req.Header.Get("Authorization")
	}
	if c := send(notificationBody(t, "n1", providerID, "e"), ok); c != 200 {
		t.Fatalf("signed: %d", c)
	}
	if c := send(notificationBody(t, "n2", providerID, "e"), func(r *http.Request) { r.Header.Set("Authorization", replay) }); c != 401 {
		t.Fatalf("replayed assertion: %d", c)
	}
	old := craft(t, goodHeader(f.provider), goodClaims(f.provider, consumerID, time.Now().Add(-2*time.Minute)), f.provider.Key)
	if c := send(notificationBody(t, "n3", providerID, "e"), func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+old) }); c != 401 {
		t.Fatalf("expired assertion: %d", c)
	}
	wrongAud := func(req *http.Request) { _ = dsgo.Sign(req, f.provider, "EU.EORI.NL000000003") }
	if c := send(notificationBody(t, "n4", providerID, "e"), wrongAud); c != 401 {
		t.Fatalf("assertion for another consumer: %d", c)
	}
	stranger := func(req *http.Request) { _ = dsgo.Sign(req, f.stranger, consumerID) }
	if c := send(notificationBody(t, "n5", providerID, "e"), stranger); c != 401 {
		t.Fatalf("untrusted chain: %d", c)
	}
	asConsumer := func(req *http.Request) { _ = dsgo.Sign(req, f.consumer, consumerID) }
	if c := send(notificationBody(t, "n6", providerID, "e"), asConsumer); c != 403 {
		t.Fatalf("signed by a party that is not the provider: %d", c)
	}
	if got := rec.got(); len(got) != 1 || got[0] != "n1/e" {
		t.Fatalf("handled %v", got)
	}
}

func TestReceiverVerifyIsPure(t *testing.T) {
	r, _ := dsgo.NewReceiver(consumerID, dsgo.StaticBearer("t"))
	req := httptest.NewRequest(http.MethodPost, "/", nil)
	if _, err := r.Verify(req, notificationBody(t, "n", providerID, "e")); !errors.Is(err, dsgo.ErrUnauthorized) {
		t.Fatalf("got %v", err)
	}
	req.Header.Set("Authorization", "Bearer t")
	n, err := r.Verify(req, notificationBody(t, "n", providerID, "e"))
	if err != nil || n.ID != "n" {
		t.Fatalf("%v %v", n, err)
	}
	if err := r.Deliver(context.Background(), n); err == nil {
		t.Fatal("Deliver without a handler succeeded")
	}
}

func TestReceiverAsyncEnqueue(t *testing.T) {
	var queue []*dsgo.Notification
	fail := true
	r, _ := dsgo.NewReceiver(consumerID, dsgo.StaticBearer("t"), dsgo.WithEnqueue(func(_ context.Context, n *dsgo.Notification) error {
		if fail {
			return errors.New("queue full")
		}
		queue = append(queue, n)
		return nil
	}))
	rec := &recorder{}
	r.OnEvent(rec.handle)
	body := notificationBody(t, "n1", providerID, "e1", "e2")
	if w := post(t, r, body, "Bearer t"); w.Code != 500 {
		t.Fatalf("failed enqueue answered %d", w.Code)
	}
	fail = false
	for range 2 { // the provider's retry and a duplicate
		if w := post(t, r, body, "Bearer t"); w.Code != 200 {
			t.Fatalf("enqueue answered %d", w.Code)
		}
	}
	if len(rec.got()) != 0 {
		t.Fatal("handler called in asynchronous mode")
	}
	// The worker: Deliver dedupes, so the duplicate is handled once.
	for _, n := range queue {
		if err := r.Deliver(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	if got := rec.got(); len(got) != 2 {
		t.Fatalf("worker handled %v", got)
	}
}
