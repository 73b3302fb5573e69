package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// EnvURL names the variable that points tests at an existing server.
const EnvURL = "NOTIFYKIT_POSTGRES_URL"

// DB is a database created for one test; it is dropped on t.Cleanup.
type DB struct {
	// URL is the database's DSN (postgres://...).
	URL string
	// Name is the database's name.
	Name string
}

// New creates a fresh database for t: on the server at NOTIFYKIT_POSTGRES_URL
// when set, else on a cluster shared by the whole test binary, started on
// first use. Tests that stop or kill the server use NewServer instead.
func New(t testing.TB) *DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	admin := os.Getenv(EnvURL)
	if admin == "" {
		srv, err := sharedServer(ctx)
		if err != nil {
			skipOrFatal(t, err)
		}
		admin = srv.URL
	}
	name, err := createDatabase(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := dropDatabase(ctx, admin, name); err != nil {
			t.Error(err)
		}
	})
	dsn, err := withDatabase(admin, name)
	if err != nil {
		t.Fatal(err)
	}
	return &DB{URL: dsn, Name: name}
}

// NewServer starts a private cluster for t, for fault tests that stop,
// restart or kill it; it is closed on t.Cleanup. It needs local binaries
// even when NOTIFYKIT_POSTGRES_URL is set.
func NewServer(t testing.TB) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	srv, err := Start(ctx)
	if err != nil {
		skipOrFatal(t, err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	})
	return srv
}

// Main runs the tests, stops the shared cluster and removes the template,
// then exits (like brokertest.Main), instead of leaving the cleanup to
// process exit and the next sweep:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	if err := Shutdown(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// Shutdown stops the shared cluster, if one was started, and removes the
// template. It is what Main does after the tests, for a TestMain that also
// shuts down other shared servers (brokertest.Shutdown) and so cannot use
// Main.
func Shutdown() error {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	var err error
	if shared.srv != nil {
		err = shared.srv.Close()
		shared.srv = nil
	}
	RemoveTemplate()
	return err
}

// RemoveTemplate deletes the initdb template this process made (Start
// copies it for every cluster). Programs that use Start outside tests, like
// the benchmarks, call it after closing their servers; Main calls it for
// tests. A later Start makes a new one.
func RemoveTemplate() {
	tmpl.mu.Lock()
	defer tmpl.mu.Unlock()
	if tmpl.dir != "" {
		_ = os.RemoveAll(filepath.Dir(tmpl.dir))
		tmpl.dir = ""
	}
}

var shared struct {
	mu  sync.Mutex
	srv *Server
	err error
}

// sharedServer starts the binary-wide cluster once. A failure is
// remembered, so a missing installation costs one lookup, not one per test.
func sharedServer(ctx context.Context) (*Server, error) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.srv == nil && shared.err == nil {
		shared.srv, shared.err = Start(ctx)
	}
	return shared.srv, shared.err
}

// skipOrFatal skips when PostgreSQL is simply not installed, unless CI
// demands brokers; any other failure is a real failure.
func skipOrFatal(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, ErrNoBinaries) && os.Getenv("NOTIFYKIT_REQUIRE_BROKERS") != "1" {
		t.Skipf("%v", err)
		return
	}
	t.Fatal(err)
}
