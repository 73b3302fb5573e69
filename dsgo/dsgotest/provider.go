package dsgotest

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/notifykit/notifykit/dsgo"
	"github.com/notifykit/notifykit/dsgo/dsgoprovider"
	"github.com/notifykit/notifykit/internal/backoff"
)

// DefaultProviderID is the organisation ID of a Provider unless
// WithProviderID says otherwise.
const DefaultProviderID = "EU.EORI.NL000000001"

// Provider is an in-process DSGO provider for tests: a dsgoprovider.Server
// on an httptest server, with its own test PKI, a memory store, and the
// dispatcher running with fast retries. It allows http:// and loopback
// webhooks, so httptest receivers work.
type Provider struct {
	*dsgoprovider.Server
	// ID is the provider's organisation ID.
	ID string
	// URL is the base URL: URL+"/subscriptions", URL+"/connect/token".
	URL string
	// PKI issued the provider's and the consumers' certificates.
	PKI *PKI
	// Credentials are the provider's own (used to authenticate to
	// webhooks).
	Credentials *dsgo.Credentials

	mu     sync.Mutex
	errs   []error
	server *httptest.Server
}

// TB is the part of testing.TB the helpers use; *testing.T and *testing.B
// satisfy it, and so can a small adapter in programs and examples.
type TB interface {
	Helper()
	Fatal(args ...any)
	Cleanup(func())
}

// Option configures NewProvider.
type Option func(*config)

type config struct {
	id       string
	pki      *PKI
	auth     func(*Provider) dsgoprovider.WebhookAuth
	provOpts []dsgoprovider.Option
}

// WithProviderID sets the provider's organisation ID.
func WithProviderID(id string) Option { return func(c *config) { c.id = id } }

// WithPKI makes the provider use (and trust) an existing PKI, so consumers
// from it can authenticate.
func WithPKI(p *PKI) Option { return func(c *config) { c.pki = p } }

// WithWebhookAuth chooses how the dispatcher authenticates to webhooks
// (default: dsgoprovider.SignedAssertionAuth with the provider's
// credentials, verifiable by a dsgo.SignedAssertion receiver that trusts
// PKI.Pool()).
func WithWebhookAuth(f func(p *Provider) dsgoprovider.WebhookAuth) Option {
	return func(c *config) { c.auth = f }
}

// WithServerOptions passes options to dsgoprovider.New; they override the
// test defaults.
func WithServerOptions(opts ...dsgoprovider.Option) Option {
	return func(c *config) { c.provOpts = append(c.provOpts, opts...) }
}

// NewProvider starts a provider for the duration of t.
func NewProvider(t TB, opts ...Option) *Provider {
	t.Helper()
	c := config{id: DefaultProviderID}
	for _, o := range opts {
		o(&c)
	}
	if c.pki == nil {
		var err error
		if c.pki, err = NewPKI(); err != nil {
			t.Fatal(err)
		}
	}
	creds, err := c.pki.Party(c.id)
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{ID: c.id, PKI: c.pki, Credentials: creds}
	auth := dsgoprovider.SignedAssertionAuth(creds)
	if c.auth != nil {
		auth = c.auth(p)
	}
	srvOpts := append([]dsgoprovider.Option{
		dsgoprovider.WithWebhookAuth(auth),
		dsgoprovider.WithAllowPrivateTargets(),
		dsgoprovider.WithAllowHTTPWebhooks(),
		dsgoprovider.WithRetry(5, backoff.Constant(20*time.Millisecond)),
		dsgoprovider.WithAttemptTimeout(5 * time.Second),
		dsgoprovider.WithPollInterval(20 * time.Millisecond),
		dsgoprovider.WithOnError(p.recordError),
	}, c.provOpts...)
	if p.Server, err = dsgoprovider.New(c.id, c.pki.Pool(), dsgoprovider.NewMemoryStore(), srvOpts...); err != nil {
		t.Fatal(err)
	}
	p.server = httptest.NewServer(p.Server)
	p.URL = p.server.URL
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = p.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		p.server.Close()
	})
	return p
}

func (p *Provider) recordError(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.errs = append(p.errs, err)
}

// Errors returns what the provider reported through OnError so far, such as
// *dsgoprovider.DeliveryError for notifications that failed for good.
func (p *Provider) Errors() []error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]error(nil), p.errs...)
}

// Consumer issues credentials for a consumer party from the provider's PKI.
func (p *Provider) Consumer(t TB, id string) *dsgo.Credentials {
	t.Helper()
	c, err := p.PKI.Party(id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Client returns a dsgo.Client for the consumer creds, authenticating at
// the provider's token endpoint.
func (p *Provider) Client(t TB, creds *dsgo.Credentials, opts ...dsgo.Option) *dsgo.Client {
	t.Helper()
	c, err := dsgo.NewClient(p.URL, append([]dsgo.Option{dsgo.WithCredentials(creds, p.ID)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ReceiverAuth returns the authenticator a consumer's webhook uses to
// accept this provider's default webhook authentication.
func (p *Provider) ReceiverAuth(t TB, consumerID string) dsgo.Authenticator {
	t.Helper()
	v, err := dsgo.NewAssertionVerifier(consumerID, p.PKI.Pool())
	if err != nil {
		t.Fatal(err)
	}
	return dsgo.SignedAssertion(v)
}

// WaitDelivery waits until notification id reaches a terminal state and
// returns the delivery; it fails t after timeout.
func (p *Provider) WaitDelivery(t TB, id string, timeout time.Duration) *dsgoprovider.Delivery {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		d, err := p.Store().GetDelivery(context.Background(), id)
		if err != nil && !errors.Is(err, dsgo.ErrNotFound) {
			t.Fatal(err)
		}
		if d != nil && d.State != dsgoprovider.DeliveryPending {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatal(fmt.Sprintf("notification %s not settled within %v (state %+v)", id, timeout, d))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
