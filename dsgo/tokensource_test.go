package dsgo_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notifykit/notifykit/dsgo"
)

// tokenServer is a real dsgo.TokenEndpoint behind httptest, counting the
// token requests and checking each form with the independent verifier.
type tokenServer struct {
	*httptest.Server
	te       *dsgo.TokenEndpoint
	requests atomic.Int32
	forms    chan url.Values
}

func newTokenServer(t *testing.T, ownID string, opts ...dsgo.Option) *tokenServer {
	t.Helper()
	f := pki(t)
	v, err := dsgo.NewAssertionVerifier(ownID, f.pki.Pool(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	te, err := dsgo.NewTokenEndpoint(v, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ts := &tokenServer{te: te, forms: make(chan url.Values, 100)}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.requests.Add(1)
		if r.Method == http.MethodPost {
			_ = r.ParseForm()
			select {
			case ts.forms <- r.PostForm:
			default:
			}
		}
		te.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func TestTokenEndpointProtocol(t *testing.T) {
	f := pki(t)
	ts := newTokenServer(t, providerID)
	post := func(form url.Values) (*http.Response, map[string]any) {
		t.Helper()
		resp, err := http.PostForm(ts.URL, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Pragma") != "no-cache" {
			t.Errorf("missing no-store headers: %v", resp.Header)
		}
		return resp, body
	}
	form := func(scope string) url.Values {
		a, err := f.consumer.ClientAssertion(providerID, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return url.Values{"grant_type": {"client_credentials"}, "scope": {scope}, "client_id": {consumerID},
			"client_assertion_type": {dsgo.ClientAssertionType}, "client_assertion": {a}}
	}

	resp, body := post(form("iSHARE"))
	if resp.StatusCode != 200 || body["token_type"] != "Bearer" || body["expires_in"] != 3600.0 {
		t.Fatalf("%d %v", resp.StatusCode, body)
	}
	if party, ok, err := ts.te.Lookup(context.Background(), body["access_token"].(string)); err != nil || !ok || party != consumerID {
		t.Fatalf("lookup: %q %v", party, ok)
	}
	if resp, _ := post(form("dsgo ishare")); resp.StatusCode != 200 {
		t.Fatalf("wiki scope refused: %d", resp.StatusCode)
	}
	if resp, body := post(form("admin")); resp.StatusCode != 400 || body["error"] != "invalid_scope" {
		t.Fatalf("%d %v", resp.StatusCode, body)
	}
	replay := form("iSHARE")
	post(replay)
	if resp, body := post(replay); resp.StatusCode != 401 || body["error"] != "invalid_client" {
		t.Fatalf("replayed assertion: %d %v", resp.StatusCode, body)
	}
	bad := form("iSHARE")
	bad.Set("grant_type", "password")
	if resp, body := post(bad); resp.StatusCode != 400 || body["error"] != "unsupported_grant_type" {
		t.Fatalf("%d %v", resp.StatusCode, body)
	}
	bad = form("iSHARE")
	bad.Set("client_id", "EU.EORI.NL999")
	if resp, _ := post(bad); resp.StatusCode != 401 {
		t.Fatalf("client_id != iss accepted: %d", resp.StatusCode)
	}
	get, err := http.Get(ts.URL + "?" + form("iSHARE").Encode())
	if err != nil {
		t.Fatal(err)
	}
	get.Body.Close()
	if get.StatusCode != 405 {
		t.Fatalf("GET: %d", get.StatusCode)
	}
	js, err := http.Post(ts.URL, "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	js.Body.Close()
	if js.StatusCode != 400 {
		t.Fatalf("JSON body: %d", js.StatusCode)
	}
}

func TestTokenSourceFormAndCaching(t *testing.T) {
	f := pki(t)
	ts := newTokenServer(t, providerID)
	src, err := dsgo.NewISHARETokenSource(ts.URL+"/connect/token", providerID, f.consumer)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tok, err := src.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	form := <-ts.forms
	for k, want := range map[string]string{"grant_type": "client_credentials", "scope": "iSHARE", "client_id": consumerID,
		"client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"} {
		if form.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, form.Get(k), want)
		}
	}
	// The assertion the endpoint already consumed still passes the
	// independent verifier's rules.
	if _, _, err := stdlibVerify(form.Get("client_assertion"), f.pki.Pool(), providerID, time.Now()); err != nil {
		t.Fatalf("independent verifier: %v", err)
	}

	// Concurrent callers share the cached token; one request in total.
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if got, err := src.Token(ctx); err != nil || got != tok {
				t.Errorf("cached token: %v", err)
			}
		})
	}
	wg.Wait()
	if n := ts.requests.Load(); n != 1 {
		t.Fatalf("%d token requests, want 1", n)
	}
	src.Invalidate("someone else's token")
	if got, _ := src.Token(ctx); got != tok {
		t.Fatal("Invalidate of a different token dropped the cache")
	}
	src.Invalidate(tok)
	if got, _ := src.Token(ctx); got == tok || ts.requests.Load() != 2 {
		t.Fatalf("no refresh after Invalidate (requests %d)", ts.requests.Load())
	}
}

func TestTokenSourceSingleFlightAndExpiry(t *testing.T) {
	f := pki(t)
	var clock atomic.Int64
	clock.Store(time.Now().Unix())
	now := func() time.Time { return time.Unix(clock.Load(), 0) }
	ts := newTokenServer(t, providerID) // real clock: assertions stay valid
	gate := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-gate
		ts.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(slow.Close)
	src, err := dsgo.NewISHARETokenSource(slow.URL, providerID, f.consumer, dsgo.WithClock(func() time.Time {
		// The assertion must carry real time; the cache uses the fake one.
		return now()
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	tokens := make(chan string, 10)
	for range 10 {
		wg.Go(func() {
			tok, err := src.Token(ctx)
			if err != nil {
				t.Error(err)
			}
			tokens <- tok
		})
	}
	time.Sleep(50 * time.Millisecond)
	close(gate)
	wg.Wait()
	close(tokens)
	first := ""
	for tok := range tokens {
		if first == "" {
			first = tok
		}
		if tok != first {
			t.Fatal("concurrent callers got different tokens")
		}
	}
	if n := ts.requests.Load(); n != 1 {
		t.Fatalf("%d requests in flight at once, want 1", n)
	}
	// 3600 s token: still cached at +3539 s, renewed at +3541 s (60 s early).
	clock.Add(3539)
	if tok, _ := src.Token(ctx); tok != first || ts.requests.Load() != 1 {
		t.Fatal("renewed too early")
	}
	clock.Add(2)
	// The endpoint's verifier runs on real time, so the fake clock's
	// assertion is from the future: this must fail, and that proves a
	// refresh was attempted.
	if _, err := src.Token(ctx); !errors.Is(err, dsgo.ErrToken) || ts.requests.Load() != 2 {
		t.Fatalf("expected a refresh attempt: %v (requests %d)", err, ts.requests.Load())
	}
	var apiErr *dsgo.APIError
	if _, err := src.Token(ctx); !errors.As(err, &apiErr) || apiErr.OAuth == nil || apiErr.OAuth.Code != "invalid_client" {
		t.Fatalf("token error lacks the OAuth body: %v", err)
	}
}

func TestTokenSourceCallerContext(t *testing.T) {
	f := pki(t)
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(block) })
	src, _ := dsgo.NewISHARETokenSource(srv.URL, providerID, f.consumer, dsgo.WithHTTPClient(&http.Client{Timeout: 2 * time.Second}))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := src.Token(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
}
