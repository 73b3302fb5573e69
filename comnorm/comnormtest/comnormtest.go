package comnormtest

import (
	"net/http/httptest"
	"testing"

	"github.com/notifykit/notifykit/comnorm/comnormserver"
)

// DefaultPartnerKey is the partner key the server accepts.
const DefaultPartnerKey = "comnormtest-partner-key-0001"

// Server is a running test server.
type Server struct {
	// URL is the base URL to pass to comnorm.WithBaseURL, ending in "/api".
	// (It assumes the default prefix; do not pass comnormserver.WithPrefix.)
	URL string
	// PartnerKey is a valid partner key.
	PartnerKey string
	// Handler is the server itself, for tests that need Close.
	Handler *comnormserver.Server
	// Store is the in-memory store behind it.
	Store *comnormserver.MemoryStore
	// HTTP is the underlying httptest server.
	HTTP *httptest.Server
}

// NewServer starts a server with the in-memory store and one partner
// (DefaultPartnerKey) and stops it when the test ends. Options are passed to
// comnormserver.New (for example WithLimits or WithEmptyPollOK).
func NewServer(t testing.TB, opts ...comnormserver.Option) *Server {
	t.Helper()
	s, err := Start(opts...)
	if err != nil {
		t.Fatalf("comnormtest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start is NewServer for code without a testing.TB (examples, local
// tools); call Close when done.
func Start(opts ...comnormserver.Option) (*Server, error) {
	keys, err := comnormserver.NewStaticKeys(map[string]string{"test-partner": DefaultPartnerKey})
	if err != nil {
		return nil, err
	}
	store := comnormserver.NewMemoryStore()
	h, err := comnormserver.New(store, keys, opts...)
	if err != nil {
		return nil, err
	}
	hs := httptest.NewServer(h)
	return &Server{URL: hs.URL + "/api", PartnerKey: DefaultPartnerKey, Handler: h, Store: store, HTTP: hs}, nil
}

// Close ends waiting long polls and stops the server.
func (s *Server) Close() {
	s.Handler.Close()
	s.HTTP.Close()
	_ = s.Store.Close()
}
