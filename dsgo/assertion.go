package dsgo

import (
	"crypto/rand"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// AssertionLifetime is the fixed lifetime of an iSHARE client assertion:
// strict validators require exp - iat (and exp - nbf) to be exactly 30 s.
const AssertionLifetime = 30 * time.Second

// ClientAssertion signs a fresh iSHARE client assertion for calling the
// party audience (its organisation ID), issued at now.
//
// The header is exactly {alg: RS256, typ: JWT, x5c: [...]}; the claims are
// iss = sub = ClientID, aud = audience as a single string (never an array,
// which strict validators reject), a random jti, iat = nbf = now (whole
// seconds) and exp = iat + 30 s. Every call yields a new jti, because a
// server must not accept the same assertion twice.
func (c *Credentials) ClientAssertion(audience string, now time.Time) (string, error) {
	if err := c.check(); err != nil {
		return "", err
	}
	if audience == "" {
		return "", fmt.Errorf("%w: empty audience", ErrCredentials)
	}
	iat := now.Unix()
	// MapClaims rather than RegisteredClaims: golang-jwt writes a
	// ClaimStrings audience as an array by default (MarshalSingleStringAsArray).
	claims := jwt.MapClaims{
		"iss": c.ClientID,
		"sub": c.ClientID,
		"aud": audience,
		"jti": newUUID(),
		"iat": iat,
		"nbf": iat,
		"exp": iat + int64(AssertionLifetime/time.Second),
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header = map[string]any{"alg": "RS256", "typ": "JWT", "x5c": c.x5c()}
	s, err := tok.SignedString(c.Key)
	if err != nil {
		return "", fmt.Errorf("%w: sign assertion: %v", ErrCredentials, err)
	}
	return s, nil
}

// newUUID returns a random RFC 4122 version 4 UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
