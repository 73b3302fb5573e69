package dsgo_test

import (
	"context"
	"crypto/x509"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notifykit/notifykit/dsgo"
)

func TestClientAssertionPassesIndependentVerifier(t *testing.T) {
	f := pki(t)
	now := time.Now()
	a, err := f.consumer.ClientAssertion(providerID, now)
	if err != nil {
		t.Fatal(err)
	}
	_, claims, err := stdlibVerify(a, f.pki.Pool(), providerID, now)
	if err != nil {
		t.Fatalf("independent verifier: %v", err)
	}
	if claims["iss"] != consumerID {
		t.Fatalf("iss %v", claims["iss"])
	}
	b, _ := f.consumer.ClientAssertion(providerID, now)
	if _, c2, _ := stdlibVerify(b, f.pki.Pool(), providerID, now); c2["jti"] == claims["jti"] {
		t.Fatal("two assertions share a jti")
	}
	// And dsgo's own verifier accepts it, once.
	v, err := dsgo.NewAssertionVerifier(providerID, f.pki.Pool())
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Verify(context.Background(), a, consumerID)
	if err != nil || got.ClientID != consumerID || got.ExpiresAt.Sub(got.IssuedAt) != 30*time.Second {
		t.Fatalf("verify: %+v %v", got, err)
	}
	if _, err := v.Verify(context.Background(), a, consumerID); !errors.Is(err, dsgo.ErrReplay) {
		t.Fatalf("replay accepted: %v", err)
	}
}

func TestAssertionVerifierRejects(t *testing.T) {
	f := pki(t)
	now := time.Now()
	key := f.consumer.Key
	with := func(mod func(h, c map[string]any)) string {
		h, c := goodHeader(f.consumer), goodClaims(f.consumer, providerID, now)
		mod(h, c)
		return craft(t, h, c, key)
	}
	cases := map[string]struct {
		assertion string
		clientID  string
		want      error
	}{
		"aud as array":          {with(func(h, c map[string]any) { c["aud"] = []string{providerID} }), consumerID, dsgo.ErrAssertion},
		"wrong aud":             {with(func(h, c map[string]any) { c["aud"] = "EU.EORI.NL999" }), consumerID, dsgo.ErrAssertion},
		"iss != sub":            {with(func(h, c map[string]any) { c["sub"] = "other" }), consumerID, dsgo.ErrAssertion},
		"client_id mismatch":    {with(func(h, c map[string]any) {}), "EU.EORI.NL999", dsgo.ErrAssertion},
		"lifetime 60s":          {with(func(h, c map[string]any) { c["exp"] = now.Unix() + 60 }), consumerID, dsgo.ErrAssertion},
		"nbf differs":           {with(func(h, c map[string]any) { c["nbf"] = now.Unix() - 5 }), consumerID, dsgo.ErrAssertion},
		"no jti":                {with(func(h, c map[string]any) { delete(c, "jti") }), consumerID, dsgo.ErrAssertion},
		"no iat":                {with(func(h, c map[string]any) { delete(c, "iat") }), consumerID, dsgo.ErrAssertion},
		"typ JOSE":              {with(func(h, c map[string]any) { h["typ"] = "JOSE" }), consumerID, dsgo.ErrAssertion},
		"alg RS512 label":       {with(func(h, c map[string]any) { h["alg"] = "RS512" }), consumerID, dsgo.ErrAssertion},
		"no x5c":                {with(func(h, c map[string]any) { delete(h, "x5c") }), consumerID, dsgo.ErrAssertion},
		"x5c url base64":        {with(func(h, c map[string]any) { h["x5c"] = []any{"-_-_"} }), consumerID, dsgo.ErrAssertion},
		"expired 41s ago":       {with(func(h, c map[string]any) { shift(c, -71) }), consumerID, dsgo.ErrAssertion},
		"issued 20s in future":  {with(func(h, c map[string]any) { shift(c, 20) }), consumerID, dsgo.ErrAssertion},
		"untrusted chain":       {craft(t, goodHeader(f.stranger), goodClaims(f.stranger, providerID, now), f.stranger.Key), providerID, dsgo.ErrAssertion},
		"expired certificate":   {craft(t, goodHeader(f.expired), goodClaims(f.expired, providerID, now), f.expired.Key), providerID, dsgo.ErrAssertion},
		"key not of x5c leaf":   {craft(t, goodHeader(f.consumer), goodClaims(f.consumer, providerID, now), f.provider.Key), consumerID, dsgo.ErrAssertion},
		"garbage":               {"a.b.c", consumerID, dsgo.ErrAssertion},
		"alg none, unsigned":    {noneToken(t, f.consumer, now), consumerID, dsgo.ErrAssertion},
		"valid but from future": {with(func(h, c map[string]any) { shift(c, 9) }), consumerID, nil}, // within 10 s skew
		"expired within skew":   {with(func(h, c map[string]any) { shift(c, -35) }), consumerID, nil},
	}
	v, err := dsgo.NewAssertionVerifier(providerID, f.pki.Pool())
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), c.assertion, c.clientID)
			if c.want == nil {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func shift(c map[string]any, secs int64) {
	for _, k := range []string{"iat", "nbf", "exp"} {
		c[k] = c[k].(int64) + secs
	}
}

func noneToken(t *testing.T, c *dsgo.Credentials, now time.Time) string {
	h := goodHeader(c)
	h["alg"] = "none"
	s := craft(t, h, goodClaims(c, providerID, now), c.Key)
	return s[:len(s)-len(s[lastDot(s):])+1]
}

func lastDot(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '.' {
			return i
		}
	}
	return 0
}

func TestAssertionVerifierConcurrentReplay(t *testing.T) {
	f := pki(t)
	v, _ := dsgo.NewAssertionVerifier(providerID, f.pki.Pool())
	a, _ := f.consumer.ClientAssertion(providerID, time.Now())
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := v.Verify(context.Background(), a, ""); err == nil {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("%d of 8 concurrent uses accepted, want 1", ok.Load())
	}
}

func TestAssertionPartyCheck(t *testing.T) {
	f := pki(t)
	// A registry stand-in: the certificate must name the party, and the
	// consumer is "NotActive".
	v, _ := dsgo.NewAssertionVerifier(consumerID, f.pki.Pool(), dsgo.WithPartyCheck(
		func(_ context.Context, party string, chain []*x509.Certificate) error {
			if chain[0].Subject.SerialNumber != party {
				return errors.New("certificate not registered for party")
			}
			if party == consumerID {
				return errors.New("party status NotActive")
			}
			return nil
		}))
	a, _ := f.provider.ClientAssertion(consumerID, time.Now())
	if _, err := v.Verify(context.Background(), a, ""); err != nil {
		t.Fatalf("registered party refused: %v", err)
	}
	b, _ := f.consumer.ClientAssertion(consumerID, time.Now())
	if _, err := v.Verify(context.Background(), b, ""); !errors.Is(err, dsgo.ErrAssertion) {
		t.Fatalf("inactive party accepted: %v", err)
	}
}

// FuzzAssertionVerifier: arbitrary tokens never panic and are never
// accepted (nothing the fuzzer writes is signed by a trusted key).
func FuzzAssertionVerifier(f *testing.F) {
	fx := pki(f)
	good, _ := fx.consumer.ClientAssertion(providerID, time.Now())
	f.Add(good)
	f.Add("e30.e30.")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add(good[:len(good)-5])
	v, _ := dsgo.NewAssertionVerifier(providerID, fx.pki.Pool())
	// Seen once, so any re-encoding of it is a replay.
	if _, err := v.Verify(context.Background(), good, ""); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := v.Verify(context.Background(), s, ""); err == nil {
			t.Fatalf("accepted %q", s)
		} else if !errors.Is(err, dsgo.ErrAssertion) && !errors.Is(err, dsgo.ErrReplay) {
			t.Fatalf("untyped error %v", err)
		}
	})
}
