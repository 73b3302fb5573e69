package dsgo

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"
)

// TokenEndpoint is an iSHARE /connect/token endpoint: it accepts the
// client-credentials form with a client assertion, verifies the assertion
// with an AssertionVerifier and issues opaque bearer tokens, which Lookup
// resolves to the calling party. A provider mounts it next to
// /subscriptions; a consumer mounts it so providers can fetch tokens for
// calling its webhook (see BearerFromTokenEndpoint).
//
// Issued tokens are kept in a TokenStore (default in memory; WithTokenStore
// shares them between instances).
type TokenEndpoint struct {
	v      *AssertionVerifier
	o      options
	scopes map[string]bool
	store  TokenStore
}

// NewTokenEndpoint returns a token endpoint that verifies assertions with
// v. Options: WithTokenTTL, WithAcceptedScopes, WithTokenStore, WithClock,
// WithLogger, WithOnError.
func NewTokenEndpoint(v *AssertionVerifier, opts ...Option) (*TokenEndpoint, error) {
	if v == nil {
		return nil, optErr("nil AssertionVerifier")
	}
	o, err := applyOptions(opts)
	if err != nil {
		return nil, err
	}
	te := &TokenEndpoint{v: v, o: o, scopes: map[string]bool{}, store: o.tokenStore}
	if te.store == nil {
		te.store = NewMemoryTokenStore()
	}
	for _, s := range o.scopes {
		te.scopes[normScope(s)] = true
	}
	return te, nil
}

// WithTokenTTL sets the lifetime of issued access tokens (default 1 h, the
// iSHARE value). NewTokenEndpoint.
func WithTokenTTL(d time.Duration) Option {
	return func(o *options) error {
		if d < time.Second {
			return optErr("token TTL below 1 s")
		}
		o.tokenTTL = d
		return nil
	}
}

// WithAcceptedScopes sets the scopes the token endpoint accepts (compared
// case-insensitively; default "iSHARE" and "dsgo ishare"). NewTokenEndpoint.
func WithAcceptedScopes(scopes ...string) Option {
	return func(o *options) error {
		if len(scopes) == 0 {
			return optErr("no scopes")
		}
		o.scopes = scopes
		return nil
	}
}

func normScope(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }

// maxTokenForm bounds a token request body; an assertion with a long x5c
// chain is a few KiB.
const maxTokenForm = 64 << 10

// ServeHTTP handles POST application/x-www-form-urlencoded token requests
// and answers OAuth 2.0 errors otherwise (405 for other methods).
func (te *TokenEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		WriteOAuthError(w, http.StatusMethodNotAllowed, "invalid_request", "token requests must be POST")
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		WriteOAuthError(w, http.StatusBadRequest, "invalid_request", "content type must be application/x-www-form-urlencoded")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenForm)
	if err := r.ParseForm(); err != nil {
		WriteOAuthError(w, http.StatusBadRequest, "invalid_request", "cannot parse form")
		return
	}
	f := r.PostForm
	switch {
	case f.Get("grant_type") != "client_credentials":
		WriteOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be client_credentials")
		return
	case f.Get("client_assertion_type") != ClientAssertionType:
		WriteOAuthError(w, http.StatusBadRequest, "invalid_request", "client_assertion_type must be "+ClientAssertionType)
		return
	case f.Get("client_id") == "" || f.Get("client_assertion") == "":
		WriteOAuthError(w, http.StatusBadRequest, "invalid_request", "client_id and client_assertion are required")
		return
	case !te.scopes[normScope(f.Get("scope"))]:
		WriteOAuthError(w, http.StatusBadRequest, "invalid_scope", "unsupported scope")
		return
	}
	a, err := te.v.Verify(r.Context(), f.Get("client_assertion"), f.Get("client_id"))
	if err != nil {
		te.o.logger.Info("dsgo: token request refused", "client_id", f.Get("client_id"), "err", err)
		desc := "client assertion rejected"
		if errors.Is(err, ErrReplay) {
			desc = "client assertion already used"
		}
		WriteOAuthError(w, http.StatusUnauthorized, "invalid_client", desc)
		return
	}
	tok, err := te.issue(r.Context(), a.ClientID)
	if err != nil {
		te.o.onError(err)
		WriteOAuthError(w, http.StatusInternalServerError, "server_error", "")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(TokenResponse{AccessToken: tok, TokenType: "Bearer", ExpiresIn: int64(te.o.tokenTTL / time.Second)})
}

func (te *TokenEndpoint) issue(ctx context.Context, party string) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	if err := te.store.SaveToken(ctx, sha256.Sum256([]byte(tok)), party, te.o.now().Add(te.o.tokenTTL)); err != nil {
		return "", fmt.Errorf("dsgo: save access token: %w", err)
	}
	return tok, nil
}

// Lookup returns the party an access token was issued to, if the token is
// one of ours and has not expired. Tokens are looked up by their SHA-256,
// so the lookup time does not depend on how much of a guess matches.
// Errors other than "unknown token" come from the TokenStore.
func (te *TokenEndpoint) Lookup(ctx context.Context, token string) (party string, ok bool, err error) {
	if token == "" {
		return "", false, nil
	}
	party, expires, err := te.store.LookupToken(ctx, sha256.Sum256([]byte(token)))
	if errors.Is(err, ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if !te.o.now().Before(expires) {
		return "", false, nil
	}
	return party, true, nil
}

// Revoke forgets token.
func (te *TokenEndpoint) Revoke(ctx context.Context, token string) error {
	return te.store.DeleteToken(ctx, sha256.Sum256([]byte(token)))
}

// WriteOAuthError writes an OAuth 2.0 error body with status, marked
// non-cacheable.
func WriteOAuthError(w http.ResponseWriter, status int, code, description string) {
	noStore(w)
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", `Bearer error="`+code+`"`)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(OAuthError{Code: code, Description: description})
}

func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}
