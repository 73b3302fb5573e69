package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notifykit/notifykit/internal/brokertest"
	"github.com/notifykit/notifykit/internal/pgtest"
)

// TestMain stops the shared RabbitMQ node and PostgreSQL cluster after the
// tests; brokertest.Main and pgtest.Main each handle only one of them.
func TestMain(m *testing.M) {
	code := m.Run()
	for _, shutdown := range []func() error{brokertest.Shutdown, pgtest.Shutdown} {
		if err := shutdown(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

// syncBuffer is a bytes.Buffer safe for a command writing while the test
// reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// started is a command running in the background of a test.
type started struct {
	stdout, stderr *syncBuffer
	cancel         context.CancelFunc
	done           chan int
}

// start runs the CLI with args until stop; the test fails if it is still
// running when the test ends.
func start(t *testing.T, args ...string) *started {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &started{stdout: &syncBuffer{}, stderr: &syncBuffer{}, cancel: cancel, done: make(chan int, 1)}
	go func() { s.done <- run(ctx, args, s.stdout, s.stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(20 * time.Second):
			t.Errorf("%v did not stop after cancel", args)
		}
	})
	return s
}

// stop cancels the command (as Ctrl-C does) and returns its exit status.
func (s *started) stop(t *testing.T) int {
	t.Helper()
	s.cancel()
	select {
	case st := <-s.done:
		s.done <- st // for the clean-up
		return st
	case <-time.After(15 * time.Second):
		t.Fatalf("command did not stop within 15 s after cancel\nstdout:\n%s\nstderr:\n%s", s.stdout, s.stderr)
		return -1
	}
}

// waitOutput waits until re matches w's output and returns the match's
// groups; it fails the test after timeout or when the command exits.
func (s *started) wait(t *testing.T, w *syncBuffer, re string, timeout time.Duration) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if m := rx.FindStringSubmatch(w.String()); m != nil {
			return m
		}
		select {
		case st := <-s.done:
			s.done <- st
			t.Fatalf("command exited with %d before %q appeared\nstdout:\n%s\nstderr:\n%s", st, re, s.stdout, s.stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("%q did not appear within %s\nstdout:\n%s\nstderr:\n%s", re, timeout, s.stdout, s.stderr)
	return nil
}

// countLines counts output lines containing sub.
func countLines(out, sub string) int {
	n := 0
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, sub) {
			n++
		}
	}
	return n
}

// rabbitMQExpected reports whether this machine should be able to run a
// RabbitMQ: an installed rabbitmq-server, a broker URL in the environment,
// or CI demanding brokers.
func rabbitMQExpected() bool {
	if os.Getenv(brokertest.EnvAMQPURL) != "" || os.Getenv(brokertest.EnvRequireBrokers) == "1" {
		return true
	}
	for _, p := range []string{"rabbitmq-server", "/usr/sbin/rabbitmq-server", "/usr/local/sbin/rabbitmq-server"} {
		if _, err := exec.LookPath(p); err == nil {
			return true
		}
	}
	return false
}

// writeFile writes b to a file in dir and returns its path.
func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := dir + "/" + name
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
