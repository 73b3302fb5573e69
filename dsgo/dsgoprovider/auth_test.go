package dsgoprovider_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notifykit/notifykit"
	"github.com/notifykit/notifykit/dsgo"
	"github.com/notifykit/notifykit/dsgo/dsgoprovider"
	"github.com/notifykit/notifykit/dsgo/dsgotest"
)

// The full iSHARE loop in both directions: the consumer gets a token at
// the provider to subscribe, the provider gets a token at the consumer's
// own /connect/token to deliver, and the consumer's webhook accepts only
// tokens its endpoint issued.
func TestISHAREBearerWebhookAuth(t *testing.T) {
	pk := sharedPKI(t)
	// Consumer side: token endpoint + webhook on one server.
	v, _ := dsgo.NewAssertionVerifier(consumerID, pk.Pool())
	var te atomic.Pointer[dsgo.TokenEndpoint] // swapped to simulate a restart
	first, _ := dsgo.NewTokenEndpoint(v)
	te.Store(first)
	recv, _ := dsgo.NewReceiver(consumerID, dsgo.AuthenticatorFunc(func(r *http.Request) (string, error) {
		return dsgo.BearerFromTokenEndpoint(te.Load()).Authenticate(r)
	}))
	got := make(chan string, 10)
	recv.OnEvent(func(_ context.Context, e *dsgo.Event) error { got <- e.Notification.ProviderID; return nil })
	var tokenCalls atomic.Int32
	mux := http.NewServeMux()
	mux.Handle("/connect/token", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tokenCalls.Add(1)
		te.Load().ServeHTTP(w, r)
	}))
	mux.Handle("/webhook", recv)
	consumerSrv := httptest.NewServer(mux)
	t.Cleanup(consumerSrv.Close)

	p := dsgotest.NewProvider(t, dsgotest.WithPKI(pk), dsgotest.WithWebhookAuth(func(p *dsgotest.Provider) dsgoprovider.WebhookAuth {
		return dsgoprovider.ISHAREBearer(p.Credentials, func(d *dsgoprovider.Delivery) (string, error) {
			if d.ConsumerID != consumerID {
				return "", errors.New("unknown consumer")
			}
			return consumerSrv.URL + "/connect/token", nil
		})
	}))
	c := p.Client(t, p.Consumer(t, consumerID))
	ctx := context.Background()
	if _, err := c.Subscriptions.Create(ctx, dsgo.SubscriptionCreate{EventTypes: []string{"Modified"}, WebhookURL: consumerSrv.URL + "/webhook"}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		ids, err := p.Publish(ctx, dsgo.Event{EventType: "Modified"})
		if err != nil {
			t.Fatal(err)
		}
		if d := p.WaitDelivery(t, ids[0], 10*time.Second); d.State != dsgoprovider.DeliveryDelivered {
			t.Fatalf("notification %d: %+v (errors %v)", i, d, p.Errors())
		}
		if from := <-got; from != p.ID {
			t.Fatalf("provider_id %s", from)
		}
	}
	if n := tokenCalls.Load(); n != 1 {
		t.Fatalf("%d token requests for 3 deliveries, want 1 (cached)", n)
	}
	// The consumer restarts its token endpoint (forgets tokens): the next
	// delivery gets 401, the provider drops its token and the retry
	// succeeds with a new one.
	fresh, _ := dsgo.NewTokenEndpoint(v)
	te.Store(fresh)
	ids, _ := p.Publish(ctx, dsgo.Event{EventType: "Modified"})
	d := p.WaitDelivery(t, ids[0], 10*time.Second)
	if d.State != dsgoprovider.DeliveryDelivered || d.Attempts != 2 || tokenCalls.Load() != 2 {
		t.Fatalf("after token loss: %+v, %d token calls", d, tokenCalls.Load())
	}
}

func TestPolicyForbids(t *testing.T) {
	p := dsgotest.NewProvider(t, dsgotest.WithPKI(sharedPKI(t)), dsgotest.WithServerOptions(dsgoprovider.WithPolicy(
		func(_ context.Context, party string, action dsgoprovider.Action, _ *dsgo.Subscription) error {
			if action == dsgoprovider.ActionCreate && party != consumerID {
				return errors.New("not a registered ServiceConsumer")
			}
			return nil
		})))
	ctx := context.Background()
	req := dsgo.SubscriptionCreate{EventTypes: []string{"Modified"}, WebhookURL: "https://consumer.example/hook"}
	if _, err := p.Client(t, p.Consumer(t, consumerID)).Subscriptions.Create(ctx, req); err != nil {
		t.Fatalf("allowed party: %v", err)
	}
	if _, err := p.Client(t, p.Consumer(t, "EU.EORI.NL000000077")).Subscriptions.Create(ctx, req); !errors.Is(err, dsgo.ErrForbidden) {
		t.Fatalf("refused party: %v", err)
	}
}

// assertionTokens sends a fresh client assertion as the bearer token of
// every request, for providers that accept assertions directly.
type assertionTokens struct {
	creds *dsgo.Credentials
	aud   string
}

func (a assertionTokens) Token(context.Context) (string, error) {
	return a.creds.ClientAssertion(a.aud, time.Now())
}

// With a one-time authenticator each request must be authenticated exactly
// once (a second check would see a replay).
func TestProviderWithAssertionAuthenticator(t *testing.T) {
	pk := sharedPKI(t)
	const pid = "EU.EORI.NL000000042"
	v, _ := dsgo.NewAssertionVerifier(pid, pk.Pool())
	srv, err := dsgoprovider.New(pid, pk.Pool(), dsgoprovider.NewMemoryStore(),
		dsgoprovider.WithWebhookAuth(dsgoprovider.NoWebhookAuth()), dsgoprovider.WithAuthenticator(dsgo.SignedAssertion(v)))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	creds, _ := pk.Party(consumerID)
	c, _ := dsgo.NewClient(hs.URL, dsgo.WithTokenSource(assertionTokens{creds, pid}))
	ctx := context.Background()
	sub, err := c.Subscriptions.Create(ctx, dsgo.SubscriptionCreate{EventTypes: []string{"A"}, WebhookURL: "https://consumer.example/hook"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Subscriptions.Get(ctx, sub.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.Subscriptions.Delete(ctx, sub.ID); err != nil {
		t.Fatal(err)
	}
}

// Two provider instances behind a load balancer share the token store and
// the replay cache: a token from one works on the other, and an assertion
// used at one is refused at the other.
func TestTwoInstancesShareTokensAndReplayCache(t *testing.T) {
	pk := sharedPKI(t)
	const pid = "EU.EORI.NL000000042"
	store := dsgoprovider.NewMemoryStore()
	tokens := dsgo.NewMemoryTokenStore()
	replay := notifykit.NewMemoryDedupeStore(1000)
	var urls []string
	for range 2 {
		srv, err := dsgoprovider.New(pid, pk.Pool(), store, dsgoprovider.WithWebhookAuth(dsgoprovider.NoWebhookAuth()),
			dsgoprovider.WithVerifierOptions(dsgo.WithTokenStore(tokens), dsgo.WithReplayStore(replay)))
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(srv)
		t.Cleanup(hs.Close)
		urls = append(urls, hs.URL)
	}
	creds, _ := pk.Party(consumerID)
	ctx := context.Background()
	src, _ := dsgo.NewISHARETokenSource(urls[0]+"/connect/token", pid, creds)
	a, _ := dsgo.NewClient(urls[0], dsgo.WithTokenSource(src))
	b, _ := dsgo.NewClient(urls[1], dsgo.WithTokenSource(src)) // same token, other instance
	sub, err := a.Subscriptions.Create(ctx, dsgo.SubscriptionCreate{EventTypes: []string{"A"}, WebhookURL: "https://consumer.example/hook"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Subscriptions.Get(ctx, sub.ID); err != nil {
		t.Fatalf("token from instance A refused by B: %v", err)
	}
	assertion, _ := creds.ClientAssertion(pid, time.Now())
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"iSHARE"}, "client_id": {consumerID},
		"client_assertion_type": {dsgo.ClientAssertionType}, "client_assertion": {assertion}}
	for i, u := range urls {
		resp, err := http.PostForm(u+"/connect/token", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want := []int{200, 401}[i]; resp.StatusCode != want {
			t.Fatalf("instance %d: %d, want %d", i, resp.StatusCode, want)
		}
	}
}
