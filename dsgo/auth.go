package dsgo

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Authenticator decides who is calling a webhook. It returns the calling
// party's organisation ID ("" when the method does not identify a party,
// as with a shared static token), or an error matching ErrUnauthorized
// (answered 401) or ErrForbidden (403).
//
// When the party is known, the receiver also requires it to equal the
// notification's provider_id, so one provider cannot notify in another's
// name.
type Authenticator interface {
	Authenticate(r *http.Request) (party string, err error)
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(r *http.Request) (string, error)

// Authenticate calls f(r).
func (f AuthenticatorFunc) Authenticate(r *http.Request) (string, error) { return f(r) }

// BearerToken returns the token of an "Authorization: Bearer <token>"
// header (scheme compared case-insensitively), or "".
func BearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
		return ""
	}
	return strings.TrimSpace(h[7:])
}

// StaticBearer accepts requests carrying one of tokens as a bearer token,
// compared in constant time. The caller's party is not known, so only
// consumer_id is checked.
func StaticBearer(tokens ...string) Authenticator {
	keys := make([][]byte, 0, len(tokens))
	for _, t := range tokens {
		if t != "" {
			keys = append(keys, []byte(t))
		}
	}
	return AuthenticatorFunc(func(r *http.Request) (string, error) {
		got := []byte(BearerToken(r))
		if len(got) == 0 {
			return "", fmt.Errorf("%w: missing bearer token", ErrUnauthorized)
		}
		ok := 0
		for _, k := range keys {
			ok |= subtle.ConstantTimeCompare(got, k)
		}
		if ok != 1 {
			return "", fmt.Errorf("%w: unknown bearer token", ErrUnauthorized)
		}
		return "", nil
	})
}

// BearerFromTokenEndpoint accepts access tokens that te issued; the caller
// is the party the token was issued to. This is the iSHARE way: the
// provider fetches a token from the consumer's /connect/token (audience =
// consumer ID) and sends it with each notification.
func BearerFromTokenEndpoint(te *TokenEndpoint) Authenticator {
	return AuthenticatorFunc(func(r *http.Request) (string, error) {
		tok := BearerToken(r)
		if tok == "" {
			return "", fmt.Errorf("%w: missing bearer token", ErrUnauthorized)
		}
		party, ok, err := te.Lookup(r.Context(), tok)
		if err != nil {
			return "", fmt.Errorf("dsgo: token store: %w", err) // answered 500: not the caller's fault
		}
		if !ok {
			return "", fmt.Errorf("%w: unknown or expired access token", ErrUnauthorized)
		}
		return party, nil
	})
}

// SignedAssertion accepts a request whose bearer token is an iSHARE client
// assertion addressed to us (aud = v's own ID), verified by v: chain to a
// trusted root, 30 s lifetime, never seen before. The caller is the
// assertion's iss. Sign produces such requests.
func SignedAssertion(v *AssertionVerifier) Authenticator {
	return AuthenticatorFunc(func(r *http.Request) (string, error) {
		tok := BearerToken(r)
		if tok == "" {
			return "", fmt.Errorf("%w: missing bearer assertion", ErrUnauthorized)
		}
		a, err := v.Verify(r.Context(), tok, "")
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrUnauthorized, err)
		}
		return a.ClientID, nil
	})
}

// AllowUnauthenticated accepts every request. It exists so that running a
// webhook without authentication is a visible, deliberate choice.
func AllowUnauthenticated() Authenticator {
	return AuthenticatorFunc(func(*http.Request) (string, error) { return "", nil })
}

// Sign sets req's Authorization header to a fresh client assertion from
// creds addressed to audience (the receiving consumer's party ID): what a
// provider sends to a webhook protected by SignedAssertion.
func Sign(req *http.Request, creds *Credentials, audience string) error {
	a, err := creds.ClientAssertion(audience, time.Now())
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a)
	return nil
}
