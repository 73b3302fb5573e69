package dsgo_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notifykit/notifykit/dsgo"
	"github.com/notifykit/notifykit/dsgo/dsgotest"
)

// Party IDs in the two spellings DSGO uses.
const (
	consumerID = "EU.EORI.NL000123456"
	providerID = "did:ishare:EU.NL.NTRNL-63202158"
)

// fixture is one PKI and a few parties, generated once per test binary
// because RSA key generation dominates test time under -race.
type fixture struct {
	pki      *dsgotest.PKI
	consumer *dsgo.Credentials
	provider *dsgo.Credentials
	stranger *dsgo.Credentials // from a PKI nobody trusts
	expired  *dsgo.Credentials // expired certificate from the trusted PKI
}

var (
	fixOnce sync.Once
	fix     fixture
	fixErr  error
)

func pki(t testing.TB) *fixture {
	t.Helper()
	fixOnce.Do(func() {
		var other *dsgotest.PKI
		if fix.pki, fixErr = dsgotest.NewPKI(); fixErr != nil {
			return
		}
		if other, fixErr = dsgotest.NewPKI(); fixErr != nil {
			return
		}
		fix.consumer, fixErr = fix.pki.Party(consumerID)
		if fixErr == nil {
			fix.provider, fixErr = fix.pki.Party(providerID)
		}
		if fixErr == nil {
			fix.stranger, fixErr = other.Party(providerID)
		}
		if fixErr == nil {
			fix.expired, fixErr = fix.pki.PartyWith(providerID, dsgotest.PartyOptions{Expired: true})
		}
	})
	if fixErr != nil {
		t.Fatal(fixErr)
	}
	return &fix
}

// --- An independent JOSE implementation with the standard library only. ---
// It shares no code with dsgo's signer or verifier, so a bug in how dsgo
// builds assertions cannot hide behind the same bug in how it checks them.

// stdlibVerify checks a client assertion the way a strict iSHARE server
// does and returns its header and claims.
func stdlibVerify(assertion string, roots *x509.CertPool, wantAud string, now time.Time) (map[string]any, map[string]any, error) {
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return nil, nil, errors.New("not three segments")
	}
	dec := base64.RawURLEncoding
	hb, err := dec.DecodeString(parts[0])
	if err != nil {
		return nil, nil, fmt.Errorf("header: %v", err)
	}
	cb, err := dec.DecodeString(parts[1])
	if err != nil {
		return nil, nil, fmt.Errorf("claims: %v", err)
	}
	sig, err := dec.DecodeString(parts[2])
	if err != nil {
		return nil, nil, fmt.Errorf("signature: %v", err)
	}
	var header, claims map[string]any
	if err := json.Unmarshal(hb, &header); err != nil {
		return nil, nil, err
	}
	if err := json.Unmarshal(cb, &claims); err != nil {
		return nil, nil, err
	}
	if len(header) != 3 || header["alg"] != "RS256" || header["typ"] != "JWT" {
		return nil, nil, fmt.Errorf("header must be exactly alg RS256, typ JWT, x5c: %v", header)
	}
	x5c, ok := header["x5c"].([]any)
	if !ok || len(x5c) == 0 {
		return nil, nil, errors.New("x5c missing")
	}
	var chain []*x509.Certificate
	for _, e := range x5c {
		s, _ := e.(string)
		der, err := base64.StdEncoding.DecodeString(s) // standard, not URL alphabet
		if err != nil {
			return nil, nil, fmt.Errorf("x5c entry not standard base64: %v", err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, nil, err
		}
		chain = append(chain, c)
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	if _, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return nil, nil, fmt.Errorf("chain: %v", err)
	}
	h := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(chain[0].PublicKey.(*rsa.PublicKey), crypto.SHA256, h[:], sig); err != nil {
		return nil, nil, fmt.Errorf("signature: %v", err)
	}
	aud, ok := claims["aud"].(string)
	if !ok || aud != wantAud {
		return nil, nil, fmt.Errorf("aud must be the single string %q, got %#v", wantAud, claims["aud"])
	}
	if claims["iss"] != claims["sub"] || claims["iss"] == "" {
		return nil, nil, errors.New("iss != sub")
	}
	iat, _ := claims["iat"].(float64)
	nbf, _ := claims["nbf"].(float64)
	exp, _ := claims["exp"].(float64)
	if iat == 0 || nbf != iat || exp != iat+30 {
		return nil, nil, fmt.Errorf("times iat=%v nbf=%v exp=%v", iat, nbf, exp)
	}
	if jti, _ := claims["jti"].(string); jti == "" {
		return nil, nil, errors.New("jti missing")
	}
	n := float64(now.Unix())
	if n < iat-10 || n >= exp+10 {
		return nil, nil, errors.New("outside lifetime")
	}
	return header, claims, nil
}

// craft signs arbitrary header and claims with RS256 using only the
// standard library, to build assertions dsgo itself would never produce.
func craft(t testing.TB, header, claims map[string]any, key *rsa.PrivateKey) string {
	t.Helper()
	hb, _ := json.Marshal(header)
	cb, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(hb) + "." + enc.EncodeToString(cb)
	h := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, h[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + enc.EncodeToString(sig)
}

func x5c(c *dsgo.Credentials) []any {
	out := make([]any, len(c.Chain))
	for i, cert := range c.Chain {
		out[i] = base64.StdEncoding.EncodeToString(cert.Raw)
	}
	return out
}

// goodClaims are valid assertion claims from c to aud at now.
func goodClaims(c *dsgo.Credentials, aud string, now time.Time) map[string]any {
	iat := now.Unix()
	return map[string]any{"iss": c.ClientID, "sub": c.ClientID, "aud": aud, "jti": rand.Text(),
		"iat": iat, "nbf": iat, "exp": iat + 30}
}

func goodHeader(c *dsgo.Credentials) map[string]any {
	return map[string]any{"alg": "RS256", "typ": "JWT", "x5c": x5c(c)}
}
