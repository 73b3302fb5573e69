package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

func TestNewGivesEachTestItsOwnDatabase(t *testing.T) {
	ctx := context.Background()
	a, b := New(t), New(t)
	if a.URL == b.URL || a.Name == b.Name {
		t.Fatalf("same database twice: %q", a.URL)
	}
	ca, cb := connect(t, a.URL), connect(t, b.URL)
	if _, err := ca.Exec(ctx, "CREATE TABLE only_in_a (x int)"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := cb.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatal("table created in database a is visible in database b")
	}
	var db string
	if err := ca.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil || db != a.Name {
		t.Fatalf("connected to %q (%v), want %q", db, err, a.Name)
	}
}

func TestNewDropsTheDatabaseOnCleanup(t *testing.T) {
	var name string
	t.Run("inner", func(t *testing.T) { name = New(t).Name })
	srv, err := sharedServer(context.Background())
	if err != nil {
		t.Skip("external server: ", err)
	}
	var n int
	if err := connect(t, srv.URL).QueryRow(context.Background(), "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("database %s still exists after its test ended", name)
	}
}

// A committed row must survive SIGKILL of the whole cluster: fsync stays on
// so durability tests built on this harness mean something.
func TestServerKillKeepsCommittedData(t *testing.T) {
	ctx := context.Background()
	srv := NewServer(t)
	c := connect(t, srv.URL)
	if _, err := c.Exec(ctx, "CREATE TABLE t (x int); INSERT INTO t VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	backends := childrenOf(srv.pid)
	if len(backends) == 0 {
		t.Fatal("no backend processes found under the postmaster")
	}
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range backends {
		if procAlive(pid) {
			t.Errorf("backend %d survived Kill", pid)
		}
	}
	if _, err := c.Exec(ctx, "SELECT 1"); err == nil {
		t.Fatal("query succeeded on a killed server")
	}
	if _, err := pgx.Connect(ctx, srv.URL); err == nil {
		t.Fatal("connected to a killed server")
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var x int
	if err := connect(t, srv.URL).QueryRow(ctx, "SELECT x FROM t").Scan(&x); err != nil || x != 42 {
		t.Fatalf("after crash recovery: x=%d err=%v", x, err)
	}
}

func TestServerRestartAndStop(t *testing.T) {
	ctx := context.Background()
	srv := NewServer(t)
	if err := srv.Start(ctx); err == nil {
		t.Fatal("Start on a running server succeeded")
	}
	_, dsn, err := srv.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := connect(t, dsn).Exec(ctx, "CREATE TABLE t (x int)"); err != nil {
		t.Fatal(err)
	}
	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := connect(t, dsn).Exec(ctx, "INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal("after restart: ", err)
	}
	if err := srv.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(ctx); err != nil {
		t.Fatal("second Stop: ", err)
	}
	if _, err := pgx.Connect(ctx, dsn); err == nil {
		t.Fatal("connected to a stopped server")
	}
	// The unix socket lives in the server's own dir.
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(srv.SocketDir(), ".s.PGSQL."+strconv.Itoa(srv.Port()))
	if _, err := os.Stat(sock); err != nil {
		t.Fatal("no unix socket: ", err)
	}
	if _, err := connect(t, "host="+srv.SocketDir()+" port="+strconv.Itoa(srv.Port())+" user=postgres dbname=postgres").Exec(ctx, "SELECT 1"); err != nil {
		t.Fatal("over the unix socket: ", err)
	}
}

func TestCloseRemovesTheDir(t *testing.T) {
	srv, err := Start(context.Background())
	if err != nil {
		skipOrFatal(t, err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(srv.SocketDir()); !os.IsNotExist(err) {
		t.Fatalf("dir survives Close: %v", err)
	}
}

func TestSweepRemovesOnlyAbandonedDirs(t *testing.T) {
	// A pid that surely is dead: a child that already exited.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := cmd.Process.Pid
	abandoned, err := os.MkdirTemp("", dirPrefix+strconv.Itoa(dead)+"-")
	if err != nil {
		t.Fatal(err)
	}
	live, err := os.MkdirTemp("", dirPrefix+strconv.Itoa(os.Getppid())+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(abandoned); _ = os.RemoveAll(live) })
	sweep()
	if _, err := os.Stat(abandoned); !os.IsNotExist(err) {
		t.Errorf("abandoned dir kept: %v", err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("live owner's dir removed: %v", err)
	}
}

func TestVersionOrder(t *testing.T) {
	if !(version("/usr/lib/postgresql/15/bin") > version("/usr/lib/postgresql/9.6/bin")) {
		t.Fatal("15 must sort above 9.6")
	}
}

// NOTIFYKIT_POSTGRES_URL points New at an existing server: the database is
// created there.
func TestNewUsesEnvURL(t *testing.T) {
	srv := NewServer(t)
	t.Setenv(EnvURL, srv.URL)
	db := New(t)
	var n int
	if err := connect(t, srv.URL).QueryRow(context.Background(), "SELECT count(*) FROM pg_database WHERE datname = $1", db.Name).Scan(&n); err != nil || n != 1 {
		t.Fatalf("database %s not on the server named by %s (n=%d, err=%v)", db.Name, EnvURL, n, err)
	}
}

// fakeTB records what skipOrFatal does instead of ending the test.
type fakeTB struct {
	testing.TB
	skipped, failed bool
}

func (f *fakeTB) Helper()              {}
func (f *fakeTB) Skipf(string, ...any) { f.skipped = true }
func (f *fakeTB) Fatal(...any)         { f.failed = true }

// Missing binaries skip, unless CI demands brokers; other failures always
// fail.
func TestSkipOrFatal(t *testing.T) {
	for _, tc := range []struct {
		require    string
		err        error
		skip, fail bool
	}{
		{"", ErrNoBinaries, true, false},
		{"1", ErrNoBinaries, false, true},
		{"", errors.New("initdb: broken"), false, true},
	} {
		t.Setenv("NOTIFYKIT_REQUIRE_BROKERS", tc.require)
		f := &fakeTB{TB: t}
		skipOrFatal(f, fmt.Errorf("wrapped: %w", tc.err))
		if f.skipped != tc.skip || f.failed != tc.fail {
			t.Errorf("require=%q err=%v: skipped=%v failed=%v", tc.require, tc.err, f.skipped, f.failed)
		}
	}
}

// RemoveTemplate deletes the template; the next Start makes a new one.
func TestRemoveTemplate(t *testing.T) {
	NewServer(t) // a template exists now
	tmpl.mu.Lock()
	dir := tmpl.dir
	tmpl.mu.Unlock()
	if dir == "" {
		t.Fatal("no template after a start")
	}
	RemoveTemplate()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("template still there: %v", err)
	}
	srv := NewServer(t)
	if _, err := connect(t, srv.URL).Exec(context.Background(), "SELECT 1"); err != nil {
		t.Fatal(err)
	}
}
