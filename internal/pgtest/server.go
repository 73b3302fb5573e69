package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is a PostgreSQL cluster this process started and owns: its data
// dir, socket and log live in one temp dir that Close removes.
type Server struct {
	// URL is the DSN of the cluster's "postgres" database, as superuser
	// "postgres" over TCP. It stays valid across Stop/Start/Restart/Kill.
	URL string

	binDir  string
	dir     string // temp dir: data/, socket, postgres.log
	port    int
	cred    *syscall.Credential
	logPath string
	logFrom int64 // log offset where the current start began

	mu   sync.Mutex
	pid  int
	done chan struct{} // closed when the postmaster exited; nil when never started
}

// startTimeout bounds how long a postmaster may take to accept connections;
// crash recovery after Kill is included.
const startTimeout = 60 * time.Second

// Start creates and starts a private cluster. The caller must Close it.
// It fails with an error mentioning InstallHint when the binaries are
// missing.
func Start(ctx context.Context) (*Server, error) {
	binDir, err := findBinDir()
	if err != nil {
		return nil, err
	}
	cred, err := credential()
	if err != nil {
		return nil, err
	}
	sweepOnce.Do(sweep)
	dir, err := makeDir(cred)
	if err != nil {
		return nil, err
	}
	if err := cloneTemplate(ctx, binDir, cred, filepath.Join(dir, "data")); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	s := &Server{binDir: binDir, dir: dir, cred: cred, logPath: filepath.Join(dir, "postgres.log")}
	// A port picked free may be taken before postgres binds it; try again.
	for attempt := 0; ; attempt++ {
		if s.port, err = freePort(); err != nil {
			break
		}
		s.URL = s.DSN("postgres")
		if err = s.Start(ctx); err == nil || attempt == 2 || !strings.Contains(err.Error(), "could not bind") {
			break
		}
	}
	if err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// DSN returns the URL of database db on this cluster.
func (s *Server) DSN(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// SocketDir is the directory of the cluster's unix socket, for clients that
// prefer host=<dir>.
func (s *Server) SocketDir() string { return s.dir }

// Port is the TCP port the cluster listens on (on 127.0.0.1).
func (s *Server) Port() int { return s.port }

// CreateDatabase creates a fresh, uniquely named database and returns its
// name and DSN.
func (s *Server) CreateDatabase(ctx context.Context) (name, dsn string, err error) {
	name, err = createDatabase(ctx, s.URL)
	if err != nil {
		return "", "", err
	}
	return name, s.DSN(name), nil
}

// Start starts the stopped or killed postmaster on the same port and data
// and waits until it accepts connections (after crash recovery, if any).
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// A backend of a killed server that has not quite exited still holds
	// the shared memory block; postgres then refuses to start. Wait it out.
	for attempt := 0; ; attempt++ {
		err := s.start(ctx)
		if err == nil || attempt == 20 || !strings.Contains(err.Error(), "pre-existing shared memory block") {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// start must be called with s.mu held.
func (s *Server) start(ctx context.Context) error {
	if s.running() {
		return errors.New("pgtest: server already running")
	}
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	if fi, err := logf.Stat(); err == nil {
		s.logFrom = fi.Size()
	}
	defer logf.Close() // the child holds its own copy
	cmd := exec.Command(filepath.Join(s.binDir, "postgres"), "-D", filepath.Join(s.dir, "data"), "-p", strconv.Itoa(s.port))
	for _, kv := range settings(s.dir) {
		cmd.Args = append(cmd.Args, "-c", kv)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:    true,           // a Ctrl-C meant for the test binary is not postgres's
		Pdeathsig:  syscall.SIGINT, // a dying test binary leaves no server behind
		Credential: s.cred,
	}
	done := make(chan struct{})
	started := make(chan error, 1)
	go func() {
		// Pdeathsig fires when the forking thread exits, not the process;
		// keep this goroutine's thread alive as long as the postmaster.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(done)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("pgtest: start postgres: %w", err)
	}
	s.pid, s.done = cmd.Process.Pid, done
	if err := s.waitReady(ctx); err != nil {
		_ = syscall.Kill(s.pid, syscall.SIGKILL)
		<-done
		return err
	}
	return nil
}

func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	for {
		cctx, ccancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(cctx, s.URL)
		ccancel()
		if err == nil {
			_ = conn.Close(ctx)
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("pgtest: postgres exited during start-up:\n%s", s.logTail())
		case <-ctx.Done():
			return fmt.Errorf("pgtest: postgres not ready: %v (%w):\n%s", err, ctx.Err(), s.logTail())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Stop shuts the cluster down cleanly ("fast" mode: open sessions are
// disconnected, a checkpoint is written). It escalates to SIGKILL when ctx
// ends first.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running() {
		return nil
	}
	_ = syscall.Kill(s.pid, syscall.SIGINT)
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		for _, c := range childrenOf(s.pid) {
			_ = syscall.Kill(c, syscall.SIGKILL)
		}
		_ = syscall.Kill(s.pid, syscall.SIGKILL)
		<-s.done
		return fmt.Errorf("pgtest: stop: %w (killed)", ctx.Err())
	}
}

// Kill SIGKILLs the postmaster and all its backends at once, like a crashed
// machine, and waits until they are gone; the next Start runs crash
// recovery.
func (s *Server) Kill() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running() {
		return nil
	}
	// Backends call setsid(), so the process group holds only the
	// postmaster: find its children first, they are reparented once it dies.
	children := childrenOf(s.pid)
	if err := syscall.Kill(s.pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("pgtest: kill: %w", err)
	}
	for _, c := range children {
		_ = syscall.Kill(c, syscall.SIGKILL)
	}
	<-s.done
	// A backend still attached to shared memory makes the next start fail.
	deadline := time.Now().Add(10 * time.Second)
	for _, c := range children {
		for procAlive(c) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
	}
	return nil
}

// Restart stops the cluster cleanly and starts it again.
func (s *Server) Restart(ctx context.Context) error {
	if err := s.Stop(ctx); err != nil {
		return err
	}
	return s.Start(ctx)
}

// Close stops the cluster and removes its directory.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err := s.Stop(ctx)
	if rerr := os.RemoveAll(s.dir); rerr != nil && err == nil {
		err = rerr
	}
	return err
}

// running must be called with s.mu held.
func (s *Server) running() bool {
	if s.done == nil {
		return false
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

func (s *Server) logTail() string {
	b, _ := os.ReadFile(s.logPath)
	if int64(len(b)) >= s.logFrom {
		b = b[s.logFrom:]
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// settings are the postgres -c flags: durable commits, otherwise small and
// quick. max_connections leaves room for several pools per test in one
// binary.
func settings(socketDir string) []string {
	return []string{
		"listen_addresses=127.0.0.1",
		"unix_socket_directories=" + socketDir,
		"max_connections=200",
		"shared_buffers=32MB",
		"fsync=on",
		"synchronous_commit=on",
		"full_page_writes=off",
		"wal_level=minimal",
		"max_wal_senders=0",
		"max_wal_size=1GB",
		"checkpoint_timeout=30min",
		"logging_collector=off",
		"log_min_messages=warning",
		"dynamic_shared_memory_type=mmap",
		"timezone=UTC",
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
