package kreditsmart_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notifykit/notifykit/internal/testpki"
	"github.com/notifykit/notifykit/kreditsmart"
	"github.com/notifykit/notifykit/kreditsmart/kreditsmarttest"
)

func TestHandshakeFailuresAreClear(t *testing.T) {
	srv := kreditsmarttest.NewServer(t)
	dev := srv.AddDevice("dev-tls", "ECHTGESCHAEFT/ABC12")
	other, err := testpki.NewCA(testpki.Options{CommonName: "someone else"})
	if err != nil {
		t.Fatal(err)
	}
	expired, err := srv.CA().Issue(testpki.Options{CommonName: "dev-tls", Expired: true})
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := other.Client("dev-tls")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		cert  tls.Certificate
		roots *x509.CertPool
		want  string
	}{
		{"server from unknown CA", dev.Certificate, other.Pool(), "certificate signed by unknown authority"},
		{"expired client certificate", expired.TLSCertificate(), srv.RootCAs(), "certificate"},
		{"client certificate from foreign CA", foreign.TLSCertificate(), srv.RootCAs(), "certificate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder()
			opts := append(fastOpts(), kreditsmart.WithClientCertificate(tc.cert), kreditsmart.WithRootCAs(tc.roots),
				kreditsmart.WithStaticTopic("ECHTGESCHAEFT/ABC12"), kreditsmart.WithOnError(rec.onError))
			sub, err := kreditsmart.NewSubscriber(srv.Endpoint(), "dev-tls", opts...)
			if err != nil {
				t.Fatal(err)
			}
			rec.attach(sub)
			done, _ := run(t, sub)
			select {
			case err := <-done:
				var ce *kreditsmart.ConnectError
				if !errors.As(err, &ce) || !ce.Permanent || !errors.Is(err, kreditsmart.ErrConnect) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("Run = %v", err)
				}
				t.Log(err)
			case <-time.After(10 * time.Second):
				t.Fatal("handshake failure did not end Run")
			}
		})
	}
	t.Run("key does not match certificate", func(t *testing.T) {
		dev2 := srv.AddDevice("dev-other", "ECHTGESCHAEFT/ABC12")
		_, err := kreditsmart.NewSubscriber(srv.Endpoint(), "dev-tls",
			kreditsmart.WithClientCertificatePEM(dev.CertPEM, dev2.KeyPEM), kreditsmart.WithStaticTopic("ECHTGESCHAEFT/ABC12"))
		if !errors.Is(err, kreditsmart.ErrConfig) || !strings.Contains(err.Error(), "private key does not match") {
			t.Fatalf("NewSubscriber = %v", err)
		}
	})
}

// shadowHTTPS is a local stand-in for the AWS IoT data endpoint on 8443:
// GetThingShadow over mutual TLS.
type shadowHTTPS struct {
	mu       sync.Mutex
	srv      *kreditsmarttest.Server
	requests []*http.Request
	peers    []string
}

func (h *shadowHTTPS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.requests = append(h.requests, r)
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		h.peers = append(h.peers, r.TLS.PeerCertificates[0].Subject.CommonName)
	}
	h.mu.Unlock()
	thing, ok := strings.CutPrefix(r.URL.Path, "/things/")
	thing, ok2 := strings.CutSuffix(thing, "/shadow")
	if r.Method != http.MethodGet || !ok || !ok2 {
		http.Error(w, `{"message":"bad request"}`, http.StatusBadRequest)
		return
	}
	doc, found := h.srv.Shadow(thing, r.URL.Query().Get("name"))
	if !found {
		w.Header().Set("X-Amzn-ErrorType", "ResourceNotFoundException")
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(map[string]string{"message": "No shadow exists with name: " + thing})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(doc)
}

func TestShadowOverHTTPS(t *testing.T) {
	srv := kreditsmarttest.NewServer(t)
	dev := srv.AddDevice("dev-https", "ECHTGESCHAEFT/ABC12")
	// The policy does not allow the MQTT shadow topics.
	srv.SetPolicy(dev.Name, kreditsmarttest.Policy{Topics: []string{"ECHTGESCHAEFT/ABC12"}})
	h := &shadowHTTPS{srv: srv}
	hs := httptest.NewUnstartedServer(h)
	cert, err := srv.CA().Server()
	if err != nil {
		t.Fatal(err)
	}
	hs.TLS = testpki.ServerTLS(cert, srv.CA())
	hs.StartTLS()
	t.Cleanup(hs.Close)

	rec := newRecorder()
	sub := fakeSubscriber(t, srv, dev, rec, kreditsmart.WithShadowHTTPS(strings.TrimPrefix(hs.URL, "https://"), nil))
	doc, err := sub.FetchShadow(t.Context())
	if err != nil || !strings.Contains(string(doc), "ECHTGESCHAEFT/ABC12") {
		t.Fatalf("FetchShadow = %s, %v", doc, err)
	}
	run(t, sub)
	waitFor(t, 5*time.Second, "subscription", func() bool { return sub.Topic() == "ECHTGESCHAEFT/ABC12" })
	if err := srv.PublishNotification("ECHTGESCHAEFT/ABC12/X", "VN1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "delivery", func() bool { return rec.count() == 1 })

	h.mu.Lock()
	for i, r := range h.requests {
		if r.Header.Get("Authorization") != "" || r.Header.Get("X-Amz-Security-Token") != "" {
			t.Errorf("request %d was signed: %v", i, r.Header)
		}
		if r.URL.Path != "/things/dev-https/shadow" {
			t.Errorf("request %d path %s", i, r.URL.Path)
		}
		if h.peers[i] != "dev-https" {
			t.Errorf("request %d presented %q", i, h.peers[i])
		}
	}
	if len(h.requests) < 2 {
		t.Errorf("%d HTTPS requests, want FetchShadow + resolution", len(h.requests))
	}
	h.mu.Unlock()

	t.Run("missing shadow", func(t *testing.T) {
		rec := newRecorder()
		s2 := fakeSubscriber(t, srv, dev, rec, kreditsmart.WithShadowHTTPS(strings.TrimPrefix(hs.URL, "https://"), nil), kreditsmart.WithShadowName("nope"))
		_, err := s2.FetchShadow(t.Context())
		var se *kreditsmart.ShadowError
		if !errors.As(err, &se) || se.Code != 404 || !errors.Is(err, kreditsmart.ErrShadow) {
			t.Fatalf("FetchShadow = %v", err)
		}
	})
}
