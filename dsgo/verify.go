package dsgo

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/notifykit/notifykit"
)

// Assertion is a client assertion that passed verification.
type Assertion struct {
	// ClientID is iss (= sub): the calling party's organisation ID.
	ClientID  string
	JTI       string
	IssuedAt  time.Time
	ExpiresAt time.Time
	// Chain is the verified x5c chain, signing certificate first.
	Chain []*x509.Certificate
}

// AssertionVerifier checks iSHARE client assertions the way strict DSGO
// validators do: RS256 only, typ JWT, an x5c chain that verifies to one of
// the trusted roots, iss == sub (== client_id when given), aud equal to our
// own party ID as a single string, iat, nbf and exp present with exactly
// 30 s between iat and exp and between nbf and exp, 10 s clock skew, and a
// jti replay cache that remembers each assertion until it expires.
//
// It is safe for concurrent use. One verifier instance must serve every
// endpoint that accepts assertions for a party, so a replay through a
// second endpoint is caught too.
type AssertionVerifier struct {
	ownID  string
	roots  *x509.CertPool
	o      options
	parser *jwt.Parser
	replay *replayCache
}

// NewAssertionVerifier returns a verifier for assertions addressed to ownID
// whose certificate chains end in roots. Options: WithClock, WithSkew,
// WithPartyCheck, WithReplayStore, WithLogger.
func NewAssertionVerifier(ownID string, roots *x509.CertPool, opts ...Option) (*AssertionVerifier, error) {
	if ownID == "" || roots == nil {
		return nil, optErr("NewAssertionVerifier needs an own party id and trusted roots")
	}
	o, err := applyOptions(opts)
	if err != nil {
		return nil, err
	}
	return &AssertionVerifier{
		ownID: ownID, roots: roots, o: o,
		parser: jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation(), jwt.WithJSONNumber(),
			jwt.WithStrictDecoding()),
		replay: newReplayCache(o.replayLimit),
	}, nil
}

// WithSkew sets the tolerated clock difference (default 10 s).
// NewAssertionVerifier, NewTokenEndpoint, NewReceiver's built-in verifiers.
func WithSkew(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 || d > 5*time.Minute {
			return optErr("skew must be within 0..5m")
		}
		o.skew = d
		return nil
	}
}

// WithPartyCheck adds a check run after the signature and chain verified,
// for the participant registry and trusted-list lookups the SDK cannot do
// on its own (party status Active, certificate thumbprint registered). A
// non-nil error rejects the assertion. NewAssertionVerifier.
func WithPartyCheck(check func(ctx context.Context, partyID string, chain []*x509.Certificate) error) Option {
	return func(o *options) error {
		if check == nil {
			return optErr("nil party check")
		}
		o.partyCheck = check
		return nil
	}
}

// WithReplayStore keeps the jti replay cache in a shared store instead of
// process memory, so that several instances (behind a load balancer)
// refuse an assertion any of them has seen. Claim is called with the
// assertion's remaining lifetime plus skew; a store error rejects the
// assertion. NewAssertionVerifier.
func WithReplayStore(s notifykit.DedupeStore) Option {
	return func(o *options) error {
		if s == nil {
			return optErr("nil replay store")
		}
		o.replayStore = s
		return nil
	}
}

// OwnID returns the party ID assertions must be addressed to.
func (v *AssertionVerifier) OwnID() string { return v.ownID }

// Verify checks assertion. clientID, when not empty, must equal iss and sub
// (the token endpoint passes the form's client_id). Errors match
// ErrAssertion or ErrReplay and never contain the assertion itself.
func (v *AssertionVerifier) Verify(ctx context.Context, assertion, clientID string) (*Assertion, error) {
	now := v.o.now()
	var chain []*x509.Certificate
	claims := jwt.MapClaims{}
	tok, err := v.parser.ParseWithClaims(assertion, claims, func(t *jwt.Token) (any, error) {
		if typ, _ := t.Header["typ"].(string); typ != "JWT" {
			return nil, errors.New(`typ must be "JWT"`)
		}
		if _, ok := t.Header["crit"]; ok {
			return nil, errors.New("crit header not supported")
		}
		c, err := parseX5C(t.Header["x5c"])
		if err != nil {
			return nil, err
		}
		if err := v.verifyChain(c, now); err != nil {
			return nil, err
		}
		chain = c
		return c[0].PublicKey, nil
	})
	if err != nil || !tok.Valid {
		return nil, fmt.Errorf("%w: %v", ErrAssertion, scrub(err))
	}
	a, err := v.checkClaims(claims, clientID, now)
	if err != nil {
		return nil, err
	}
	a.Chain = chain
	if v.o.partyCheck != nil {
		if err := v.o.partyCheck(ctx, a.ClientID, chain); err != nil {
			return nil, fmt.Errorf("%w: party %s: %v", ErrAssertion, a.ClientID, err)
		}
	}
	// Replay is checked last so that a rejected assertion does not burn
	// its jti, and atomically, so two concurrent uses cannot both pass.
	key := a.ClientID + "\x00" + a.JTI
	until := a.ExpiresAt.Add(v.o.skew)
	if v.o.replayStore != nil {
		// Shared store: fail closed, an unreachable store must not turn
		// into accepted replays.
		fresh, err := v.o.replayStore.Claim(ctx, "dsgo-jti\x00"+key, max(until.Sub(now), time.Second))
		if err != nil {
			return nil, fmt.Errorf("%w: replay store: %v", ErrAssertion, err)
		}
		if !fresh {
			return nil, fmt.Errorf("%w: jti %s from %s", ErrReplay, a.JTI, a.ClientID)
		}
		return a, nil
	}
	if !v.replay.add(key, until, now) {
		return nil, fmt.Errorf("%w: jti %s from %s", ErrReplay, a.JTI, a.ClientID)
	}
	return a, nil
}

func (v *AssertionVerifier) verifyChain(chain []*x509.Certificate, now time.Time) error {
	if _, ok := chain[0].PublicKey.(*rsa.PublicKey); !ok {
		return errors.New("signing certificate has no RSA key")
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{
		Roots: v.roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		return fmt.Errorf("x5c chain: %v", err)
	}
	return nil
}

func (v *AssertionVerifier) checkClaims(c jwt.MapClaims, clientID string, now time.Time) (*Assertion, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrAssertion}, a...)...)
	}
	iss, _ := c["iss"].(string)
	sub, _ := c["sub"].(string)
	if iss == "" || iss != sub {
		return nil, bad("iss and sub must be equal and non-empty")
	}
	if clientID != "" && clientID != iss {
		return nil, bad("client_id does not match iss")
	}
	aud, ok := c["aud"].(string)
	if !ok {
		return nil, bad("aud must be a single string")
	}
	if aud != v.ownID {
		return nil, bad("aud %q is not this party", aud)
	}
	jti, _ := c["jti"].(string)
	if jti == "" {
		return nil, bad("jti missing")
	}
	iat, err1 := numericClaim(c, "iat")
	exp, err2 := numericClaim(c, "exp")
	nbf, err3 := numericClaim(c, "nbf")
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, bad("%v", err)
	}
	life := int64(AssertionLifetime / time.Second)
	if exp-iat != life || exp-nbf != life {
		return nil, bad("lifetime must be exactly 30 s (exp-iat=%d, exp-nbf=%d)", exp-iat, exp-nbf)
	}
	skew := int64(math.Ceil(v.o.skew.Seconds()))
	n := now.Unix()
	if n+skew < nbf || n+skew < iat {
		return nil, bad("not yet valid")
	}
	if n-skew >= exp {
		return nil, bad("expired")
	}
	return &Assertion{ClientID: iss, JTI: jti, IssuedAt: time.Unix(iat, 0).UTC(), ExpiresAt: time.Unix(exp, 0).UTC()}, nil
}

func numericClaim(c jwt.MapClaims, name string) (int64, error) {
	switch v := c[name].(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i, nil
		}
		if f, err := v.Float64(); err == nil && f == math.Trunc(f) && math.Abs(f) < 1e15 {
			return int64(f), nil
		}
	case nil:
		return 0, fmt.Errorf("%s missing", name)
	}
	return 0, fmt.Errorf("%s must be whole seconds", name)
}

func parseX5C(h any) ([]*x509.Certificate, error) {
	list, ok := h.([]any)
	if !ok || len(list) == 0 {
		return nil, errors.New("x5c header missing or not an array")
	}
	if len(list) > 10 {
		return nil, errors.New("x5c chain too long")
	}
	out := make([]*x509.Certificate, 0, len(list))
	for i, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("x5c[%d] not a string", i)
		}
		der, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("x5c[%d] is not standard base64", i)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("x5c[%d]: %v", i, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// scrub keeps jwt errors short; golang-jwt does not echo tokens, but the
// message is capped anyway.
func scrub(err error) string {
	if err == nil {
		return "invalid token"
	}
	s := err.Error()
	if len(s) > 300 {
		s = s[:300]
	}
	return strings.TrimSpace(s)
}

// replayCache remembers keys until their expiry. Entries only come from
// assertions with a valid signature from a trusted chain, so growth is
// bounded by what trusted parties send within one assertion lifetime; the
// limit is a last guard, beyond which new assertions are refused rather
// than replays risked.
type replayCache struct {
	mu        sync.Mutex
	seen      map[string]time.Time
	limit     int
	nextSweep time.Time
}

func newReplayCache(limit int) *replayCache {
	return &replayCache{seen: map[string]time.Time{}, limit: limit}
}

// add records key until exp and reports whether it was new.
func (r *replayCache) add(key string, exp, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now.After(r.nextSweep) || len(r.seen) >= r.limit {
		for k, e := range r.seen {
			if !now.Before(e) {
				delete(r.seen, k)
			}
		}
		r.nextSweep = now.Add(10 * time.Second)
	}
	if e, ok := r.seen[key]; ok && now.Before(e) {
		return false
	}
	if len(r.seen) >= r.limit {
		return false
	}
	r.seen[key] = exp
	return true
}
