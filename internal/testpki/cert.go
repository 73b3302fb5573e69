package testpki

import (
	"bytes"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
)

// Cert is a generated certificate with its private key and the certificates
// of its issuers.
type Cert struct {
	// Certificate is the parsed certificate.
	Certificate *x509.Certificate
	// PrivateKey is an *ecdsa.PrivateKey or *rsa.PrivateKey.
	PrivateKey crypto.Signer
	// Chain holds the issuers, nearest first and the root last. It is empty
	// for a root CA.
	Chain []*x509.Certificate
}

// CertPEM returns the certificate alone, PEM-encoded.
func (c *Cert) CertPEM() []byte { return encodeCerts(c.Certificate) }

// ChainPEM returns the certificate followed by its intermediate CAs (the
// chain without the root), which is what a TLS peer sends and what
// Mosquitto's certfile expects.
func (c *Cert) ChainPEM() []byte { return encodeCerts(c.sentChain()...) }

// KeyPEM returns the private key as a PKCS #8 "PRIVATE KEY" block.
func (c *Cert) KeyPEM() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		// Only reachable with a key type this package never generates.
		panic(fmt.Sprintf("testpki: marshal key: %v", err))
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// TLSCertificate returns the certificate, its intermediates and key in the
// form crypto/tls presents to a peer.
func (c *Cert) TLSCertificate() tls.Certificate {
	chain := c.sentChain()
	tc := tls.Certificate{PrivateKey: c.PrivateKey, Leaf: c.Certificate}
	for _, x := range chain {
		tc.Certificate = append(tc.Certificate, x.Raw)
	}
	return tc
}

// WriteFiles writes ChainPEM to dir/name.pem and KeyPEM to dir/name.key
// (mode 0600) and returns both paths.
func (c *Cert) WriteFiles(dir, name string) (certFile, keyFile string, err error) {
	certFile = filepath.Join(dir, name+".pem")
	keyFile = filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, c.ChainPEM(), 0o644); err != nil {
		return "", "", fmt.Errorf("testpki: %w", err)
	}
	if err := os.WriteFile(keyFile, c.KeyPEM(), 0o600); err != nil {
		return "", "", fmt.Errorf("testpki: %w", err)
	}
	return certFile, keyFile, nil
}

// sentChain is the certificate plus every issuer except the root: peers are
// expected to hold the root already.
func (c *Cert) sentChain() []*x509.Certificate {
	out := []*x509.Certificate{c.Certificate}
	if len(c.Chain) > 1 {
		out = append(out, c.Chain[:len(c.Chain)-1]...)
	}
	return out
}

func encodeCerts(certs ...*x509.Certificate) []byte {
	var b bytes.Buffer
	for _, x := range certs {
		// Writing to a bytes.Buffer cannot fail.
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: x.Raw})
	}
	return b.Bytes()
}
