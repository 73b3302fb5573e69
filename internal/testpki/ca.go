package testpki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"math/big"
	"net"
	"time"
)

// CA is a certificate authority that can issue leaf certificates and
// intermediate CAs. Its embedded Cert carries its own certificate, key and
// issuers (empty for a root made by NewCA).
type CA struct {
	Cert
}

// NewCA generates a self-signed root CA. The common name defaults to
// "notifykit test CA".
func NewCA(opts Options) (*CA, error) {
	key, err := newKey(opts.KeyType)
	if err != nil {
		return nil, err
	}
	tmpl, err := caTemplate(opts, "notifykit test CA")
	if err != nil {
		return nil, err
	}
	cert, err := sign(tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	return &CA{Cert{Certificate: cert, PrivateKey: key}}, nil
}

// IssueCA generates an intermediate CA signed by ca. Certificates it issues
// carry the intermediate in their Chain, so TLSCertificate and ChainPEM send
// it along and peers need only trust the root.
func (ca *CA) IssueCA(opts Options) (*CA, error) {
	key, err := newKey(opts.KeyType)
	if err != nil {
		return nil, err
	}
	tmpl, err := caTemplate(opts, "notifykit test intermediate CA")
	if err != nil {
		return nil, err
	}
	cert, err := sign(tmpl, ca.Certificate, key.Public(), ca.PrivateKey)
	if err != nil {
		return nil, err
	}
	return &CA{Cert{Certificate: cert, PrivateKey: key, Chain: ca.issuers()}}, nil
}

// Issue generates a leaf certificate signed by ca. Without ExtKeyUsage it is
// valid for both server and client authentication.
func (ca *CA) Issue(opts Options) (*Cert, error) {
	key, err := newKey(opts.KeyType)
	if err != nil {
		return nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	notBefore, notAfter := opts.validity(time.Now())
	usage := opts.ExtKeyUsage
	if usage == nil {
		usage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	}
	keyUsage := x509.KeyUsageDigitalSignature
	if opts.KeyType == RSA2048 {
		keyUsage |= x509.KeyUsageKeyEncipherment
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               opts.subject("notifykit test certificate"),
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              keyUsage,
		ExtKeyUsage:           usage,
		BasicConstraintsValid: true,
		DNSNames:              opts.DNSNames,
		IPAddresses:           opts.IPAddresses,
	}
	cert, err := sign(tmpl, ca.Certificate, key.Public(), ca.PrivateKey)
	if err != nil {
		return nil, err
	}
	return &Cert{Certificate: cert, PrivateKey: key, Chain: ca.issuers()}, nil
}

// Server issues a server certificate with CN "localhost" valid for
// localhost, 127.0.0.1 and ::1 plus the extra names; names that parse as IP
// addresses become IP SANs, the rest DNS SANs.
func (ca *CA) Server(names ...string) (*Cert, error) {
	opts := Options{
		CommonName:  "localhost",
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			opts.IPAddresses = append(opts.IPAddresses, ip)
		} else {
			opts.DNSNames = append(opts.DNSNames, n)
		}
	}
	return ca.Issue(opts)
}

// Client issues a client certificate with the given common name; Mosquitto's
// use_identity_as_username turns it into the MQTT username.
func (ca *CA) Client(commonName string) (*Cert, error) {
	return ca.Issue(Options{CommonName: commonName})
}

// Root returns the self-signed certificate at the top of ca's chain.
func (ca *CA) Root() *x509.Certificate {
	if len(ca.Chain) == 0 {
		return ca.Certificate
	}
	return ca.Chain[len(ca.Chain)-1]
}

// RootPEM returns Root PEM-encoded: the trust anchor to give a peer (for
// example Mosquitto's cafile).
func (ca *CA) RootPEM() []byte { return encodeCerts(ca.Root()) }

// Pool returns a pool holding only Root, for tls.Config RootCAs or
// ClientCAs.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Root())
	return p
}

// issuers is the Chain of a certificate that ca signs.
func (ca *CA) issuers() []*x509.Certificate {
	return append([]*x509.Certificate{ca.Certificate}, ca.Chain...)
}

func caTemplate(opts Options, defaultName string) (*x509.Certificate, error) {
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	notBefore, notAfter := opts.validity(time.Now())
	return &x509.Certificate{
		SerialNumber:          serial,
		Subject:               opts.subject(defaultName),
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}, nil
}

func sign(tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		return nil, fmt.Errorf("testpki: create certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("testpki: parse certificate: %w", err)
	}
	return cert, nil
}

func newKey(kt KeyType) (crypto.Signer, error) {
	switch kt {
	case ECDSAP256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("testpki: generate key: %w", err)
		}
		return k, nil
	case RSA2048:
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fmt.Errorf("testpki: generate key: %w", err)
		}
		return k, nil
	default:
		return nil, fmt.Errorf("testpki: unknown key type %d", kt)
	}
}

// newSerial returns a random 127-bit serial, positive as RFC 5280 requires.
func newSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("testpki: serial: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}
