package dsgo

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
)

// Credentials are a party's iSHARE identity: its organisation ID (EORI,
// KvK or did:ishare id), its RSA signing key and its certificate chain, the
// signing certificate first.
type Credentials struct {
	// ClientID is the party's organisation ID, used as client_id, iss and
	// sub. It is opaque: the SDK never checks its format.
	ClientID string
	Key      *rsa.PrivateKey
	// Chain is the signing certificate followed by its issuing CAs, as
	// they go into x5c.
	Chain []*x509.Certificate
}

// LoadCredentials reads a PEM private key (PKCS#1 "RSA PRIVATE KEY" or
// PKCS#8 "PRIVATE KEY") from keyFile and a PEM certificate chain, signing
// certificate first, from chainFile. chainFile may be "" or the same file
// when one PEM file holds both.
func LoadCredentials(clientID, keyFile, chainFile string) (*Credentials, error) {
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("%w: read key: %v", ErrCredentials, err)
	}
	chainPEM := keyPEM
	if chainFile != "" && chainFile != keyFile {
		if chainPEM, err = os.ReadFile(chainFile); err != nil {
			return nil, fmt.Errorf("%w: read chain: %v", ErrCredentials, err)
		}
	}
	return ParseCredentials(clientID, keyPEM, chainPEM)
}

// ParseCredentials is LoadCredentials on PEM bytes. Blocks of other types in
// either input are ignored, so a combined key+chain PEM works for both.
func ParseCredentials(clientID string, keyPEM, chainPEM []byte) (*Credentials, error) {
	if strings.TrimSpace(clientID) == "" {
		return nil, fmt.Errorf("%w: empty client id", ErrCredentials)
	}
	key, err := parseRSAKey(keyPEM)
	if err != nil {
		return nil, err
	}
	chain, err := ParseCertificates(chainPEM)
	if err != nil {
		return nil, err
	}
	c := &Credentials{ClientID: clientID, Key: key, Chain: chain}
	if err := c.check(); err != nil {
		return nil, err
	}
	return c, nil
}

// ParseCertificates returns every CERTIFICATE block in pemBytes, in order.
func ParseCertificates(pemBytes []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for rest := pemBytes; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: certificate %d: %v", ErrCredentials, len(out), err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no CERTIFICATE block", ErrCredentials)
	}
	return out, nil
}

// CertPool builds a pool from PEM certificates, e.g. trusted root CAs.
func CertPool(pemBytes []byte) (*x509.CertPool, error) {
	certs, err := ParseCertificates(pemBytes)
	if err != nil {
		return nil, err
	}
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p, nil
}

func parseRSAKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	for rest := pemBytes; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, fmt.Errorf("%w: no RSA PRIVATE KEY or PRIVATE KEY block", ErrCredentials)
		}
		switch b.Type {
		case "RSA PRIVATE KEY":
			k, err := x509.ParsePKCS1PrivateKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%w: PKCS#1 key: %v", ErrCredentials, err)
			}
			return k, nil
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%w: PKCS#8 key: %v", ErrCredentials, err)
			}
			rk, ok := k.(*rsa.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("%w: key is %T, iSHARE needs RSA", ErrCredentials, k)
			}
			return rk, nil
		case "ENCRYPTED PRIVATE KEY":
			return nil, fmt.Errorf("%w: encrypted keys are not supported; decrypt first", ErrCredentials)
		}
	}
}

func (c *Credentials) check() error {
	if c == nil || c.Key == nil || len(c.Chain) == 0 || c.ClientID == "" {
		return fmt.Errorf("%w: client id, key and chain are required", ErrCredentials)
	}
	pub, ok := c.Chain[0].PublicKey.(*rsa.PublicKey)
	if !ok || !pub.Equal(&c.Key.PublicKey) {
		return fmt.Errorf("%w: key does not match the first certificate of the chain", ErrCredentials)
	}
	return nil
}

// x5c returns the chain as iSHARE wants it: standard (not URL) base64 DER.
func (c *Credentials) x5c() []string {
	out := make([]string, len(c.Chain))
	for i, cert := range c.Chain {
		out[i] = base64.StdEncoding.EncodeToString(cert.Raw)
	}
	return out
}
