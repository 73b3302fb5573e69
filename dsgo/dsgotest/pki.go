package dsgotest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/notifykit/notifykit/dsgo"
)

// PKI is a throwaway iSHARE-shaped certificate hierarchy: a root CA (what a
// trusted list would hold), an intermediate CA, and party certificates
// issued by the intermediate with the party ID in the subject's
// serialNumber, as eIDAS seals carry it. Keys are RSA 2048 because iSHARE
// signs with RS256.
type PKI struct {
	Root         *x509.Certificate
	Intermediate *x509.Certificate

	rootKey, interKey *rsa.PrivateKey
	mu                sync.Mutex
	serial            int64
}

// NewPKI generates a root and an intermediate CA.
func NewPKI() (*PKI, error) {
	p := &PKI{serial: 1}
	var err error
	if p.rootKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return nil, err
	}
	now := time.Now()
	rootTmpl := p.caTemplate("notifykit dsgotest root CA", now)
	if p.Root, err = sign(rootTmpl, rootTmpl, &p.rootKey.PublicKey, p.rootKey); err != nil {
		return nil, err
	}
	if p.interKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return nil, err
	}
	if p.Intermediate, err = sign(p.caTemplate("notifykit dsgotest issuing CA", now), p.Root, &p.interKey.PublicKey, p.rootKey); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *PKI) nextSerial() *big.Int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.serial++
	return big.NewInt(p.serial)
}

func (p *PKI) caTemplate(cn string, now time.Time) *x509.Certificate {
	return &x509.Certificate{
		SerialNumber:          p.nextSerial(),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"notifykit test"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
}

func sign(tmpl, parent *x509.Certificate, pub *rsa.PublicKey, key *rsa.PrivateKey) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		return nil, fmt.Errorf("dsgotest: create certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}

// Pool returns a pool holding the root, for trusting this PKI.
func (p *PKI) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.Root)
	return pool
}

// RootPEM returns the root certificate as PEM.
func (p *PKI) RootPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.Root.Raw})
}

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
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	nb, na := now.Add(-time.Hour), now.Add(365*24*time.Hour)
	if o.Expired {
		nb, na = now.Add(-48*time.Hour), now.Add(-24*time.Hour)
	}
	tmpl := &x509.Certificate{
		SerialNumber: p.nextSerial(),
		Subject:      pkix.Name{CommonName: id, SerialNumber: id, Organization: []string{"notifykit test party"}},
		NotBefore:    nb,
		NotAfter:     na,
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
	}
	leaf, err := sign(tmpl, p.Intermediate, &key.PublicKey, p.interKey)
	if err != nil {
		return nil, err
	}
	return &dsgo.Credentials{ClientID: id, Key: key, Chain: []*x509.Certificate{leaf, p.Intermediate}}, nil
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
