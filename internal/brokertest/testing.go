package brokertest

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
)

// RabbitMQ returns the test binary's shared RabbitMQ node, starting it on
// first use (a few seconds), or the broker named by NOTIFYKIT_AMQP_URL.
// Without a broker the test is skipped, or fails under
// NOTIFYKIT_REQUIRE_BROKERS=1.
//
// The node outlives the test: give queues and exchanges unique names. Its
// fault methods work while no other test holds the node (sequential tests,
// which is the default); with parallel holders they return ErrShared, and
// such tests want PrivateRabbitMQ. When the test ends the node is started
// again if the test left it stopped. The node is stopped when the test
// binary exits; call Main from TestMain to stop it cleanly instead of with
// SIGKILL.
func RabbitMQ(t testing.TB) *Broker {
	t.Helper()
	if url := os.Getenv(EnvAMQPURL); url != "" {
		return &Broker{URL: url}
	}
	b, err := shared.get()
	if err != nil {
		unavailable(t, err)
	}
	name := t.Name()
	shared.acquire(name)
	t.Cleanup(func() {
		defer shared.release(name)
		if err := b.Start(); err != nil {
			t.Errorf("brokertest: bring the shared RabbitMQ back after %s: %v", name, err)
		}
	})
	return &Broker{URL: b.URL, b: b.b, shared: true, guard: func() error { return shared.exclusive(name) }}
}

// PrivateRabbitMQ starts a RabbitMQ node for this test alone (about ten
// seconds) and removes it when the test ends; or it returns the broker
// named by NOTIFYKIT_AMQP_URL, whose fault methods are not supported. Use it
// for fault tests that run in parallel with others.
func PrivateRabbitMQ(t testing.TB) *Broker {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	b, err := StartRabbitMQ(ctx)
	if err != nil {
		unavailable(t, err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("brokertest: %v", err)
		}
	})
	return b
}

// Mosquitto starts a Mosquitto for this test alone, configured as conf
// (milliseconds), and removes it when the test ends. For the zero
// MosquittoConfig, NOTIFYKIT_MQTT_URL takes precedence. Without a broker the
// test is skipped, or fails under NOTIFYKIT_REQUIRE_BROKERS=1.
func Mosquitto(t testing.TB, conf MosquittoConfig) *Broker {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	b, err := StartMosquitto(ctx, conf)
	if err != nil {
		unavailable(t, err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("brokertest: %v", err)
		}
	})
	return b
}

// Main runs the tests and then stops the shared RabbitMQ cleanly. Use it as
// the body of TestMain in packages that use RabbitMQ:
//
//	func TestMain(m *testing.M) { brokertest.Main(m) }
//
// Without it the node is killed when the test binary exits, which is also
// fine, just less graceful.
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

// Shutdown stops the shared RabbitMQ, if one was started. It is what Main
// does after the tests, for a TestMain that also shuts down other shared
// servers (pgtest.Shutdown) and so cannot use Main.
func Shutdown() error { return shared.close() }

// unavailable skips or fails the test that could not get a broker.
func unavailable(t testing.TB, err error) {
	t.Helper()
	if judge(err, requireBrokers()) == verdictSkip {
		t.Skip(err)
	}
	if requireBrokers() {
		t.Fatalf("%v (brokers are required: %s is set)", err, EnvRequireBrokers)
	}
	t.Fatal(err)
}

// shared is the one RabbitMQ node of this test binary. Test binaries are
// the unit of sharing because `go test ./...` runs them as separate
// processes; within one, tests are sequential unless they opt into
// parallelism, so one node serves them all.
var shared sharedRabbitMQ

type sharedRabbitMQ struct {
	mu      sync.Mutex
	started bool
	b       *Broker
	err     error
	holders map[string]int // test name -> handles it holds
}

// get starts the node on first use; a failure is remembered so that every
// later test reports it at once instead of waiting for another start.
func (s *sharedRabbitMQ) get() (*Broker, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		s.started = true
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		s.b, s.err = startOwnRabbitMQ(ctx)
		cancel()
	}
	return s.b, s.err
}

func (s *sharedRabbitMQ) acquire(test string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.holders == nil {
		s.holders = map[string]int{}
	}
	s.holders[test]++
}

func (s *sharedRabbitMQ) release(test string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.holders[test]--; s.holders[test] <= 0 {
		delete(s.holders, test)
	}
}

// exclusive reports ErrShared when a test unrelated to test holds the node.
// A test's own subtests and parents count as related: they cannot run at
// the same time as its body.
func (s *sharedRabbitMQ) exclusive(test string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var others []string
	for h := range s.holders {
		if !related(h, test) {
			others = append(others, h)
		}
	}
	if len(others) == 0 {
		return nil
	}
	slices.Sort(others)
	return fmt.Errorf("%w: %s (use PrivateRabbitMQ for fault tests that run in parallel)", ErrShared, strings.Join(others, ", "))
}

func related(a, b string) bool {
	return a == b || strings.HasPrefix(a, b+"/") || strings.HasPrefix(b, a+"/")
}

func (s *sharedRabbitMQ) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b == nil {
		return nil
	}
	err := s.b.b.close()
	s.b = nil
	return err
}
