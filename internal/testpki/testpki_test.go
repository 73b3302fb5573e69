package testpki

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

func mustCA(t *testing.T, opts Options) *CA {
	t.Helper()
	ca, err := NewCA(opts)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// handshake runs a real TLS handshake over loopback TCP and returns the
// server's and the client's errors.
func handshake(t *testing.T, server, client *tls.Config, dialHost string) (serverErr, clientErr error) {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", server)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		done <- c.(*tls.Conn).Handshake()
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	d := &net.Dialer{Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", net.JoinHostPort(dialHost, port), client)
	if err == nil {
		// TLS 1.3 clients finish before the server has checked the client
		// certificate; a read surfaces the server's verdict.
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = c.Read(make([]byte, 1))
		if errors.Is(err, io.EOF) {
			err = nil
		}
		c.Close()
	}
	return <-done, err
}

func TestServerCertificateNames(t *testing.T) {
	ca := mustCA(t, Options{})
	srv := must[*Cert](t)(ca.Server("broker.test", "10.1.2.3"))
	for _, name := range []string{"localhost", "127.0.0.1", "::1", "broker.test", "10.1.2.3"} {
		_, err := srv.Certificate.Verify(x509.VerifyOptions{DNSName: name, Roots: ca.Pool()})
		if err != nil {
			t.Errorf("verify for %q: %v", name, err)
		}
	}
	if _, err := srv.Certificate.Verify(x509.VerifyOptions{DNSName: "other.test", Roots: ca.Pool()}); err == nil {
		t.Error("certificate verified for a name it does not carry")
	}
	if _, ok := srv.PrivateKey.(*ecdsa.PrivateKey); !ok {
		t.Errorf("default key is %T, want *ecdsa.PrivateKey", srv.PrivateKey)
	}
}

func TestMutualTLS(t *testing.T) {
	ca := mustCA(t, Options{})
	srv := must[*Cert](t)(ca.Server())
	good := must[*Cert](t)(ca.Client("device-1"))
	expired := must[*Cert](t)(ca.Issue(Options{CommonName: "old", Expired: true}))
	foreign := must[*Cert](t)(mustCA(t, Options{CommonName: "other CA"}).Client("intruder"))

	tests := []struct {
		name     string
		cert     *Cert
		host     string
		wantFail bool
	}{
		{"valid client over IPv4", good, "127.0.0.1", false},
		{"valid client by name", good, "localhost", false},
		{"no client certificate", nil, "127.0.0.1", true},
		{"expired client certificate", expired, "127.0.0.1", true},
		{"client from another CA", foreign, "127.0.0.1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			serr, cerr := handshake(t, ServerTLS(srv, ca), ClientTLS(ca, tt.cert), tt.host)
			if tt.wantFail {
				if serr == nil {
					t.Fatalf("server accepted the client (client error: %v)", cerr)
				}
				return
			}
			if serr != nil || cerr != nil {
				t.Fatalf("server: %v, client: %v", serr, cerr)
			}
		})
	}
}

func TestClientSeesCommonName(t *testing.T) {
	ca := mustCA(t, Options{})
	srv := must[*Cert](t)(ca.Server())
	cli := must[*Cert](t)(ca.Client("KEX-PUSH-1"))
	ln, err := tls.Listen("tcp", "127.0.0.1:0", ServerTLS(srv, ca))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- err.Error()
			return
		}
		defer c.Close()
		tc := c.(*tls.Conn)
		if err := tc.Handshake(); err != nil {
			got <- err.Error()
			return
		}
		got <- tc.ConnectionState().PeerCertificates[0].Subject.CommonName
	}()
	c, err := tls.Dial("tcp", ln.Addr().String(), ClientTLS(ca, cli))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if cn := <-got; cn != "KEX-PUSH-1" {
		t.Fatalf("server saw %q", cn)
	}
}

func TestServerRejectedWithoutTrust(t *testing.T) {
	ca := mustCA(t, Options{})
	other := mustCA(t, Options{})
	srv := must[*Cert](t)(ca.Server())
	_, cerr := handshake(t, ServerTLS(srv, nil), ClientTLS(other, nil), "127.0.0.1")
	var uerr *tls.CertificateVerificationError
	if !errors.As(cerr, &uerr) {
		t.Fatalf("client error = %v, want a certificate verification error", cerr)
	}
}

func TestIntermediateChainRSA(t *testing.T) {
	root := mustCA(t, Options{CommonName: "Test Root", KeyType: RSA2048})
	inter := must[*CA](t)(root.IssueCA(Options{KeyType: RSA2048}))
	leaf := must[*Cert](t)(inter.Issue(Options{
		Subject: pkix.Name{CommonName: "party", SerialNumber: "EU.EORI.NL000000001"},
		KeyType: RSA2048,
	}))

	k, ok := leaf.PrivateKey.(*rsa.PrivateKey)
	if !ok || k.N.BitLen() != 2048 {
		t.Fatalf("leaf key %T, want 2048-bit RSA", leaf.PrivateKey)
	}
	if got := leaf.Certificate.Subject.SerialNumber; got != "EU.EORI.NL000000001" {
		t.Errorf("subject serialNumber = %q", got)
	}
	if len(leaf.Chain) != 2 || leaf.Chain[0] != inter.Certificate || leaf.Chain[1] != root.Certificate {
		t.Fatalf("chain = %v, want [intermediate root]", leaf.Chain)
	}
	if inter.Root() != root.Certificate || !inter.Certificate.IsCA {
		t.Fatal("intermediate does not lead to the root")
	}
	inters := x509.NewCertPool()
	inters.AddCert(inter.Certificate)
	if _, err := leaf.Certificate.Verify(x509.VerifyOptions{
		Roots: root.Pool(), Intermediates: inters, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}); err != nil {
		t.Fatalf("verify chain: %v", err)
	}
	// Trusting the intermediate's pool means trusting the root only, so TLS
	// works exactly when the intermediate travels with the leaf.
	srv := must[*Cert](t)(inter.Server())
	if serr, cerr := handshake(t, ServerTLS(srv, nil), ClientTLS(inter, nil), "localhost"); serr != nil || cerr != nil {
		t.Fatalf("server: %v, client: %v", serr, cerr)
	}
	if n := len(leaf.TLSCertificate().Certificate); n != 2 {
		t.Errorf("TLS certificate carries %d certificates, want leaf + intermediate", n)
	}
}

func TestPEMAndFiles(t *testing.T) {
	root := mustCA(t, Options{})
	inter := must[*CA](t)(root.IssueCA(Options{}))
	leaf := must[*Cert](t)(inter.Client("c"))

	certFile, keyFile, err := leaf.WriteFiles(t.TempDir(), "client")
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatalf("files do not load as a key pair: %v", err)
	}
	if len(pair.Certificate) != 2 {
		t.Errorf("cert file holds %d certificates, want leaf + intermediate", len(pair.Certificate))
	}
	st, err := os.Stat(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", st.Mode().Perm())
	}

	block, rest := pem.Decode(inter.RootPEM())
	if block == nil || len(rest) != 0 {
		t.Fatal("RootPEM is not one PEM block")
	}
	if c, err := x509.ParseCertificate(block.Bytes); err != nil || !c.Equal(root.Certificate) {
		t.Fatalf("RootPEM does not hold the root: %v", err)
	}
	if block, _ := pem.Decode(leaf.CertPEM()); block == nil || !leaf.Certificate.Equal(mustParse(t, block.Bytes)) {
		t.Fatal("CertPEM does not hold the leaf")
	}
	if block, _ := pem.Decode(leaf.KeyPEM()); block == nil || block.Type != "PRIVATE KEY" {
		t.Fatal("KeyPEM is not a PKCS #8 block")
	}
}

func mustParse(t *testing.T, der []byte) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestValidity(t *testing.T) {
	ca := mustCA(t, Options{})
	now := time.Now()
	c := must[*Cert](t)(ca.Issue(Options{}))
	if !c.Certificate.NotBefore.Before(now) || !c.Certificate.NotAfter.After(now.Add(24*time.Hour)) {
		t.Errorf("default validity %v..%v does not cover now and the next day", c.Certificate.NotBefore, c.Certificate.NotAfter)
	}
	old := must[*Cert](t)(ca.Issue(Options{Expired: true}))
	if !old.Certificate.NotAfter.Before(now) {
		t.Errorf("expired certificate still valid until %v", old.Certificate.NotAfter)
	}
	nb := now.Add(time.Hour).Truncate(time.Second)
	future := must[*Cert](t)(ca.Issue(Options{NotBefore: nb}))
	if !future.Certificate.NotBefore.Equal(nb) {
		t.Errorf("NotBefore = %v, want %v", future.Certificate.NotBefore, nb)
	}
	if _, err := ca.Issue(Options{KeyType: KeyType(99)}); err == nil {
		t.Error("unknown key type accepted")
	}
}
