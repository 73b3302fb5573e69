package dsgo_test

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/notifykit/notifykit/dsgo"
	"github.com/notifykit/notifykit/dsgo/dsgotest"
)

func TestLoadCredentialsPKCS1AndPKCS8(t *testing.T) {
	f := pki(t)
	dir := t.TempDir()
	keyFile, chainFile, err := dsgotest.WriteCredentials(dir, "consumer", f.consumer)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := dsgo.LoadCredentials(consumerID, keyFile, chainFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkcs8.Chain) != 2 || !pkcs8.Key.Equal(f.consumer.Key) {
		t.Fatal("PKCS#8 key or chain lost")
	}

	// PKCS#1 key and chain in one combined file.
	chainPEM, _ := os.ReadFile(chainFile)
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(f.consumer.Key)})
	combined := filepath.Join(dir, "combined.pem")
	if err := os.WriteFile(combined, append(pkcs1, chainPEM...), 0o600); err != nil {
		t.Fatal(err)
	}
	one, err := dsgo.LoadCredentials(consumerID, combined, "")
	if err != nil {
		t.Fatal(err)
	}
	a, err := one.ClientAssertion(providerID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := stdlibVerify(a, f.pki.Pool(), providerID, time.Now()); err != nil {
		t.Fatalf("assertion from PKCS#1 credentials: %v", err)
	}

	// Key of another party: refused, with no key material in the error.
	otherKey, _, _ := dsgotest.CredentialsPEM(f.provider)
	if _, err := dsgo.ParseCredentials(consumerID, otherKey, chainPEM); !errors.Is(err, dsgo.ErrCredentials) {
		t.Fatalf("mismatched key: %v", err)
	}
	if _, err := dsgo.ParseCredentials(consumerID, chainPEM, chainPEM); !errors.Is(err, dsgo.ErrCredentials) {
		t.Fatalf("no key: %v", err)
	}
	if _, err := dsgo.ParseCredentials("", pkcs1, chainPEM); !errors.Is(err, dsgo.ErrCredentials) {
		t.Fatalf("empty id: %v", err)
	}
	if _, err := dsgo.LoadCredentials(consumerID, filepath.Join(dir, "missing"), ""); !errors.Is(err, dsgo.ErrCredentials) {
		t.Fatalf("missing file: %v", err)
	}
	pool, err := dsgo.CertPool(f.pki.RootPEM())
	if err != nil || !pool.Equal(f.pki.Pool()) {
		t.Fatalf("CertPool: %v", err)
	}
}
