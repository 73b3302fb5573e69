package dsgoprovider

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/notifykit/notifykit/dsgo"
)

// WebhookAuth authenticates the dispatcher's POST to a consumer's webhook.
type WebhookAuth interface {
	// Authorize adds credentials to req, a notification for d.
	Authorize(ctx context.Context, req *http.Request, d *Delivery) error
	// Refused is told when the webhook answered 401, so cached
	// credentials can be dropped before the retry.
	Refused(d *Delivery, req *http.Request)
}

type noAuth struct{}

func (noAuth) Authorize(context.Context, *http.Request, *Delivery) error { return nil }
func (noAuth) Refused(*Delivery, *http.Request)                          {}

// NoWebhookAuth sends notifications without credentials: a deliberate
// choice for consumers whose webhooks are protected otherwise.
func NoWebhookAuth() WebhookAuth { return noAuth{} }

type staticToken string

func (s staticToken) Authorize(_ context.Context, req *http.Request, _ *Delivery) error {
	req.Header.Set("Authorization", "Bearer "+string(s))
	return nil
}
func (staticToken) Refused(*Delivery, *http.Request) {}

// StaticWebhookToken sends one fixed bearer token to every webhook (matches
// dsgo.StaticBearer on the consumer side).
func StaticWebhookToken(token string) WebhookAuth { return staticToken(token) }

type signedAssertion struct{ creds *dsgo.Credentials }

func (s signedAssertion) Authorize(_ context.Context, req *http.Request, d *Delivery) error {
	return dsgo.Sign(req, s.creds, d.ConsumerID)
}
func (signedAssertion) Refused(*Delivery, *http.Request) {}

// SignedAssertionAuth sends a fresh iSHARE client assertion (aud = the
// consumer's ID) as the bearer token of every attempt: no token endpoint
// round trip, verifiable by the consumer against the x5c chain (matches
// dsgo.SignedAssertion).
func SignedAssertionAuth(creds *dsgo.Credentials) WebhookAuth { return signedAssertion{creds} }

// ISHAREBearerAuth fetches an access token from each consumer's token
// endpoint with creds (aud = consumer ID) and caches it per consumer
// (matches dsgo.BearerFromTokenEndpoint on the consumer side).
type ISHAREBearerAuth struct {
	creds    *dsgo.Credentials
	tokenURL func(d *Delivery) (string, error)
	opts     []dsgo.Option

	mu      sync.Mutex
	sources map[string]*dsgo.ISHARETokenSource
}

// ISHAREBearer returns an ISHAREBearerAuth. tokenURL names the token
// endpoint of a delivery's consumer (from configuration, the participant
// registry or the consumer's /capabilities); opts go to
// dsgo.NewISHARETokenSource.
func ISHAREBearer(creds *dsgo.Credentials, tokenURL func(d *Delivery) (string, error), opts ...dsgo.Option) *ISHAREBearerAuth {
	return &ISHAREBearerAuth{creds: creds, tokenURL: tokenURL, opts: opts, sources: map[string]*dsgo.ISHARETokenSource{}}
}

func (a *ISHAREBearerAuth) source(d *Delivery) (*dsgo.ISHARETokenSource, error) {
	u, err := a.tokenURL(d)
	if err != nil {
		return nil, fmt.Errorf("dsgoprovider: token URL for %s: %w", d.ConsumerID, err)
	}
	key := u + "\x00" + d.ConsumerID
	a.mu.Lock()
	defer a.mu.Unlock()
	if ts, ok := a.sources[key]; ok {
		return ts, nil
	}
	ts, err := dsgo.NewISHARETokenSource(u, d.ConsumerID, a.creds, a.opts...)
	if err != nil {
		return nil, err
	}
	a.sources[key] = ts
	return ts, nil
}

// Authorize implements WebhookAuth.
func (a *ISHAREBearerAuth) Authorize(ctx context.Context, req *http.Request, d *Delivery) error {
	ts, err := a.source(d)
	if err != nil {
		return err
	}
	tok, err := ts.Token(ctx)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	return nil
}

// Refused implements WebhookAuth: the token is dropped so the retry
// fetches a new one.
func (a *ISHAREBearerAuth) Refused(d *Delivery, req *http.Request) {
	if ts, err := a.source(d); err == nil {
		ts.Invalidate(dsgo.BearerToken(req))
	}
}
