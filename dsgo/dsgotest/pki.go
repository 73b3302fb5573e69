package dsgotest

import (
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/notifykit/notifykit/dsgo"
	"github.com/notifykit/notifykit/internal/testpki"
)

// PKI is a throwaway iSHARE-shaped certificate hierarchy: a root CA (what a
// trusted list would hold), an intermediate CA, and party certificates
// issued by the intermediate with the party ID in the subject's
// serialNumber, as eIDAS seals carry it. Keys are RSA 2048 because iSHARE
// signs with RS256.
type PKI struct {
	Root         *x509.Certificate
	Intermediate *x509.Certificate

	root, issuing *testpki.CA
}

// NewPKI generates a root and an intermediate CA.
func NewPKI() (*PKI, error) {
	root, err := testpki.NewCA(testpki.Options{CommonName: "notifykit dsgotest root CA", KeyType: testpki.RSA2048})
	if err != nil {
		return nil, err
	}
	issuing, err := root.IssueCA(testpki.Options{CommonName: "notifykit dsgotest issuing CA", KeyType: testpki.RSA2048})
	if err != nil {
		return nil, err
	}
	return &PKI{Root: root.Certificate, Intermediate: issuing.Certificate, root: root, issuing: issuing}, nil
}

// Pool returns a pool holding the root, for trusting this PKI.
func (p *PKI) Pool() *x509.CertPool { return p.root.Pool() }

// RootPEM returns the root certificate as PEM.
func (p *PKI) RootPEM() []byte { return p.root.RootPEM() }

// PartyOptions vary a party certificate.
type PartyOptions struct {
	// Expired issues a certificate whose validity ended a day ago.
	Expired bool
}

// Party issues credentials for the party id: a fresh RSA key and the chain
// [party certificate, intermediate CA].
func (p *PKI) Party(id string) (*dsgo.Credentials, error) { return p.PartyWith(id, PartyOptions{}) }

// PartyWith is Party with options.
func (p *PKI) PartyWith(id string, o PartyOptions) (*dsgo.Credentials, error) {
	c, err := p.issuing.Issue(testpki.Options{
		Subject:  pkix.Name{CommonName: id, SerialNumber: id, Organization: []string{"notifykit test party"}},
		KeyType:  testpki.RSA2048,
		Expired:  o.Expired,
		NotAfter: time.Now().Add(365 * 24 * time.Hour),
	})
	if err != nil {
		return nil, err
	}
	key, ok := c.PrivateKey.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("dsgotest: party key is %T, want RSA", c.PrivateKey)
	}
	return &dsgo.Credentials{ClientID: id, Key: key, Chain: []*x509.Certificate{c.Certificate, p.Intermediate}}, nil
}

// CredentialsPEM renders credentials as a PKCS#8 key PEM and a chain PEM,
// the files dsgo.LoadCredentials reads.
func CredentialsPEM(c *dsgo.Credentials) (keyPEM, chainPEM []byte, err error) {
	der, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		return nil, nil, err
	}
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	for _, cert := range c.Chain {
		chainPEM = append(chainPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})...)
	}
	return keyPEM, chainPEM, nil
}

// WriteCredentials writes c to dir/name.key (0600) and dir/name.pem and
// returns the paths, for code that loads credentials from files.
func WriteCredentials(dir, name string, c *dsgo.Credentials) (keyFile, chainFile string, err error) {
	keyPEM, chainPEM, err := CredentialsPEM(c)
	if err != nil {
		return "", "", err
	}
	keyFile, chainFile = filepath.Join(dir, name+".key"), filepath.Join(dir, name+".pem")
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(chainFile, chainPEM, 0o644); err != nil {
		return "", "", err
	}
	return keyFile, chainFile, nil
}
