package testpki

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"time"
)

// KeyType selects the key algorithm of a generated certificate.
type KeyType int

const (
	// ECDSAP256 is the default: fast to generate and accepted everywhere.
	ECDSAP256 KeyType = iota
	// RSA2048 is for protocols that sign with RSA, such as iSHARE (RS256).
	RSA2048
)

// Options describe one certificate to generate. The zero value is valid.
type Options struct {
	// CommonName, when set, overrides Subject.CommonName.
	CommonName string
	// Subject is the full subject name, for callers that need more than a
	// common name (iSHARE puts the party's EORI in SerialNumber).
	Subject pkix.Name
	// DNSNames and IPAddresses become the subject alternative names.
	DNSNames    []string
	IPAddresses []net.IP
	// ExtKeyUsage defaults to both server and client authentication, so one
	// certificate can be used on either side of a test connection.
	ExtKeyUsage []x509.ExtKeyUsage
	// KeyType defaults to ECDSAP256.
	KeyType KeyType
	// NotBefore and NotAfter default to one hour ago and 30 days ahead.
	NotBefore, NotAfter time.Time
	// Expired makes a certificate whose validity ended a day ago; it
	// overrides NotBefore and NotAfter.
	Expired bool
}

// validity resolves the certificate's validity window.
func (o Options) validity(now time.Time) (notBefore, notAfter time.Time) {
	if o.Expired {
		return now.Add(-48 * time.Hour), now.Add(-24 * time.Hour)
	}
	notBefore, notAfter = o.NotBefore, o.NotAfter
	if notBefore.IsZero() {
		notBefore = now.Add(-time.Hour)
	}
	if notAfter.IsZero() {
		notAfter = now.Add(30 * 24 * time.Hour)
	}
	return notBefore, notAfter
}

// subject resolves the subject name, falling back to def for the common name.
func (o Options) subject(def string) pkix.Name {
	s := o.Subject
	if o.CommonName != "" {
		s.CommonName = o.CommonName
	}
	if s.CommonName == "" {
		s.CommonName = def
	}
	return s
}
