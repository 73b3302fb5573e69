package dsgo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// TokenSource supplies bearer access tokens for API calls.
type TokenSource interface {
	// Token returns a valid access token, fetching one if needed.
	Token(ctx context.Context) (string, error)
}

// TokenInvalidator is implemented by token sources that can drop a cached
// token the server refused (HTTP 401), so the next Token call fetches a
// fresh one. The client calls it before its single 401 retry.
type TokenInvalidator interface {
	Invalidate(token string)
}

// StaticToken is a TokenSource that always returns the same token, for
// parties that hand out long-lived tokens or for tests.
type StaticToken string

// Token returns the token.
func (s StaticToken) Token(context.Context) (string, error) { return string(s), nil }

// TokenResponse is the token endpoint's success body.
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope,omitempty"`
}

// ClientAssertionType is the client_assertion_type of iSHARE token requests.
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// tokenRefreshMargin: a cached token is renewed this long before it
// expires, so that a token never runs out in the middle of a call.
const tokenRefreshMargin = 60 * time.Second

// ISHARETokenSource fetches access tokens from a party's token endpoint with
// a fresh client assertion each time, and caches a token until 60 s before
// it expires. Concurrent callers share one request in flight.
type ISHARETokenSource struct {
	tokenURL string
	audience string
	creds    *Credentials
	o        options

	mu       sync.Mutex
	token    string
	expires  time.Time
	inflight *tokenCall
}

type tokenCall struct {
	done  chan struct{}
	token string
	err   error
}

// NewISHARETokenSource returns a token source for the token endpoint
// tokenURL of the party audience (its organisation ID, the assertion's
// aud). Options: WithHTTPClient, WithScope, WithClock, WithLogger.
func NewISHARETokenSource(tokenURL, audience string, creds *Credentials, opts ...Option) (*ISHARETokenSource, error) {
	u, err := url.Parse(tokenURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, optErr("token URL must be an absolute http(s) URL")
	}
	if audience == "" {
		return nil, optErr("empty audience")
	}
	if err := creds.check(); err != nil {
		return nil, err
	}
	o, err := applyOptions(opts)
	if err != nil {
		return nil, err
	}
	return &ISHARETokenSource{tokenURL: tokenURL, audience: audience, creds: creds, o: o}, nil
}

// Token returns the cached token or fetches a new one. A caller whose ctx
// ends while another caller's fetch is in flight returns ctx.Err(); the
// fetch itself continues for the others.
func (ts *ISHARETokenSource) Token(ctx context.Context) (string, error) {
	ts.mu.Lock()
	if ts.token != "" && ts.o.now().Before(ts.expires) {
		t := ts.token
		ts.mu.Unlock()
		return t, nil
	}
	call := ts.inflight
	if call == nil {
		call = &tokenCall{done: make(chan struct{})}
		ts.inflight = call
		// The fetch must not die with the first caller's context: others
		// wait on it. It is bounded by the HTTP client's timeout.
		go ts.fetch(context.WithoutCancel(ctx), call)
	}
	ts.mu.Unlock()
	select {
	case <-call.done:
		return call.token, call.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// Invalidate drops token from the cache if it is still the cached one.
func (ts *ISHARETokenSource) Invalidate(token string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.token == token {
		ts.token = ""
	}
}

func (ts *ISHARETokenSource) fetch(ctx context.Context, call *tokenCall) {
	tok, ttl, err := ts.request(ctx)
	ts.mu.Lock()
	if err == nil {
		ts.token = tok
		margin := tokenRefreshMargin
		if ttl <= 2*margin {
			margin = ttl / 2 // short-lived tokens: still cache, renew at half-life
		}
		ts.expires = ts.o.now().Add(ttl - margin)
	}
	ts.inflight = nil
	ts.mu.Unlock()
	call.token, call.err = tok, err
	close(call.done)
}

func (ts *ISHARETokenSource) request(ctx context.Context) (string, time.Duration, error) {
	assertion, err := ts.creds.ClientAssertion(ts.audience, ts.o.now())
	if err != nil {
		return "", 0, err
	}
	form := url.Values{
		"grant_type":            {"client_credentials"},
		"scope":                 {ts.o.scope},
		"client_id":             {ts.creds.ClientID},
		"client_assertion_type": {ClientAssertionType},
		"client_assertion":      {assertion},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ts.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, fmt.Errorf("%w: %v", ErrToken, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	resp, err := ts.o.httpClient.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("%w: %s: %w", ErrToken, redactURL(ts.tokenURL), innerNetError(err))
	}
	defer drainClose(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", 0, fmt.Errorf("%w: %w", ErrToken, newAPIError(resp))
	}
	var tr TokenResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxErrorBody)).Decode(&tr); err != nil {
		return "", 0, fmt.Errorf("%w: decode token response: %v", ErrToken, err)
	}
	if tr.AccessToken == "" || !strings.EqualFold(tr.TokenType, "Bearer") {
		return "", 0, fmt.Errorf("%w: response lacks a Bearer access_token", ErrToken)
	}
	ttl := time.Duration(tr.ExpiresIn) * time.Second
	if tr.ExpiresIn <= 0 {
		ttl = time.Hour // iSHARE's fixed token lifetime
	}
	ts.o.logger.Debug("dsgo: fetched access token", "token_url", redactURL(ts.tokenURL), "expires_in", tr.ExpiresIn)
	return tr.AccessToken, ttl, nil
}

func drainClose(r io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r, 64<<10))
	_ = r.Close()
}
