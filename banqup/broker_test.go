package banqup_test

// TEMPORARY stand-in for internal/brokertest until it lands on main: a
// private RabbitMQ node from the installed binary. Replace rabbit() and
// privateRabbit() with brokertest.RabbitMQ / brokertest.PrivateRabbitMQ.

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

type testBroker struct {
	URL  string
	dir  string
	env  []string
	cmd  *exec.Cmd
	done chan struct{}
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startBroker(t testing.TB) *testBroker {
	const bin = "/usr/lib/rabbitmq/bin/rabbitmq-server"
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("NOTIFYKIT_REQUIRE_BROKERS") == "1" {
			t.Fatal("rabbitmq-server not installed")
		}
		t.Skip("rabbitmq-server not installed")
	}
	dir, err := os.MkdirTemp("", "banqup-rmq-")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "enabled_plugins"), []byte("[].\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "rabbitmq.conf"), []byte("disk_free_limit.absolute = 1MB\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "env.conf"), nil, 0o644)
	os.Mkdir(filepath.Join(dir, "home"), 0o700)
	port, dist := freePort(t), freePort(t)
	node := fmt.Sprintf("bq%dx%d@localhost", os.Getpid(), port)
	b := &testBroker{URL: fmt.Sprintf("amqp://guest:guest@127.0.0.1:%d/", port), dir: dir}
	b.env = append(os.Environ(), "HOME="+filepath.Join(dir, "home"),
		"RABBITMQ_CONF_ENV_FILE="+filepath.Join(dir, "env.conf"), "RABBITMQ_NODENAME="+node,
		"RABBITMQ_NODE_IP_ADDRESS=127.0.0.1", fmt.Sprintf("RABBITMQ_NODE_PORT=%d", port),
		fmt.Sprintf("RABBITMQ_DIST_PORT=%d", dist), "RABBITMQ_MNESIA_BASE="+filepath.Join(dir, "mnesia"),
		"RABBITMQ_LOG_BASE="+filepath.Join(dir, "log"), "RABBITMQ_ENABLED_PLUGINS_FILE="+filepath.Join(dir, "enabled_plugins"),
		"RABBITMQ_CONFIG_FILE="+filepath.Join(dir, "rabbitmq.conf"),
		"RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=+sbwt none +sbwtdcpu none +sbwtdio none")
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		b.Stop()
		os.RemoveAll(dir)
	})
	return b
}

func (b *testBroker) Start() error {
	cmd := exec.Command("/usr/lib/rabbitmq/bin/rabbitmq-server")
	cmd.Env = b.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	b.cmd, b.done = cmd, make(chan struct{})
	go func() { cmd.Wait(); close(b.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := amqp.Dial(b.URL); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("broker did not start")
}

func (b *testBroker) Stop() error {
	if b.cmd == nil {
		return nil
	}
	syscall.Kill(-b.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-b.done:
	case <-time.After(30 * time.Second):
		syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
		<-b.done
	}
	b.cmd = nil
	return nil
}

func (b *testBroker) Restart() error {
	if err := b.Stop(); err != nil {
		return err
	}
	return b.Start()
}

var (
	sharedOnce sync.Once
	shared     *testBroker
)

// rabbit returns a broker shared by the package's tests (use unique
// queue names).
func rabbit(t testing.TB) *testBroker {
	sharedOnce.Do(func() { shared = startBroker(&cleanupless{TB: t}) })
	if shared == nil {
		t.Skip("no broker")
	}
	return shared
}

// privateRabbit returns a broker for this test alone, which it may restart.
func privateRabbit(t *testing.T) *testBroker { return startBroker(t) }

// cleanupless keeps the shared node alive past the first test that
// started it; Pdeathsig ends it with the test binary.
type cleanupless struct{ testing.TB }

func (c *cleanupless) Cleanup(func()) {}
