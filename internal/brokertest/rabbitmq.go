package brokertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// debianRabbitMQServer is the real start script on Debian and Ubuntu. The
// /usr/sbin/rabbitmq-server in PATH there is a wrapper that switches to the
// rabbitmq user through su, which puts the node in a new session where Kill
// cannot reach it, and writes its output to a fixed file under /var/log.
// Running the inner script directly keeps the node our child, as us.
const debianRabbitMQServer = "/usr/lib/rabbitmq/bin/rabbitmq-server"

// rabbitMQServerPath finds the rabbitmq-server start script.
func rabbitMQServerPath() (string, bool) {
	if st, err := os.Stat(debianRabbitMQServer); err == nil && !st.IsDir() {
		return debianRabbitMQServer, true
	}
	for _, p := range []string{"rabbitmq-server", "/usr/sbin/rabbitmq-server", "/usr/local/sbin/rabbitmq-server"} {
		if path, err := exec.LookPath(p); err == nil {
			return path, true
		}
	}
	return "", false
}

// startLocalRabbitMQ starts a private RabbitMQ node from the installed
// binary. It returns an error wrapping ErrNoBroker when there is none.
func startLocalRabbitMQ(ctx context.Context) (*Broker, error) {
	path, ok := rabbitMQServerPath()
	if !ok {
		return nil, fmt.Errorf("%w: rabbitmq-server is not installed", ErrNoBroker)
	}
	var lastErr error
	for range 3 {
		ports, err := freePorts(2)
		if err != nil {
			return nil, err
		}
		l, url, err := newLocalRabbitMQ(path, ports[0], ports[1])
		if err != nil {
			return nil, err
		}
		if lastErr = l.start(ctx); lastErr == nil {
			return &Broker{URL: url, b: l}, nil
		}
		_ = l.close()
		// Only a node that died by itself (a port taken between choosing
		// and binding it, most likely) is worth another try.
		if ctx.Err() != nil || !errors.Is(lastErr, errExited) {
			break
		}
	}
	return nil, lastErr
}

// newLocalRabbitMQ prepares a node's directory and environment. Every path
// the node writes to is inside its directory, so nodes never share state
// with each other or with a system RabbitMQ.
func newLocalRabbitMQ(path string, amqpPort, distPort int) (*localBroker, string, error) {
	dir, err := os.MkdirTemp("", "notifykit-rabbitmq-")
	if err != nil {
		return nil, "", fmt.Errorf("brokertest: %w", err)
	}
	files := map[string]string{
		// No plugins: management alone doubles the start time.
		"enabled_plugins": "[].\n",
		// A full CI disk must not block publishers through the disk alarm.
		"rabbitmq.conf": "disk_free_limit.absolute = 1MB\n",
		// Keeps /etc/rabbitmq/rabbitmq-env.conf (which may set NODENAME)
		// out of the node.
		"rabbitmq-env.conf": "",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			os.RemoveAll(dir)
			return nil, "", fmt.Errorf("brokertest: %w", err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "home"), 0o700); err != nil {
		os.RemoveAll(dir)
		return nil, "", fmt.Errorf("brokertest: %w", err)
	}

	node := "nk" + strconv.Itoa(os.Getpid()) + "x" + randHex(4) + "@localhost"
	env := append(cleanEnv("RABBITMQ_", "ERL_"),
		// The Erlang cookie is created in HOME; a private HOME avoids
		// touching the user's.
		"HOME="+filepath.Join(dir, "home"),
		"RABBITMQ_CONF_ENV_FILE="+filepath.Join(dir, "rabbitmq-env.conf"),
		"RABBITMQ_NODENAME="+node,
		"RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
		"RABBITMQ_NODE_PORT="+strconv.Itoa(amqpPort),
		"RABBITMQ_DIST_PORT="+strconv.Itoa(distPort),
		"RABBITMQ_MNESIA_BASE="+filepath.Join(dir, "mnesia"),
		"RABBITMQ_LOG_BASE="+filepath.Join(dir, "log"),
		"RABBITMQ_FEATURE_FLAGS_FILE="+filepath.Join(dir, "feature_flags"),
		"RABBITMQ_ENABLED_PLUGINS_FILE="+filepath.Join(dir, "enabled_plugins"),
		"RABBITMQ_CONFIG_FILE="+filepath.Join(dir, "rabbitmq.conf"),
		"RABBITMQ_ADVANCED_CONFIG_FILE="+filepath.Join(dir, "advanced.config"),
		"RABBITMQ_PID_FILE="+filepath.Join(dir, "rabbitmq.pid"),
		// Idle schedulers must not spin on a shared two-core machine, and
		// Erlang distribution has no business outside loopback.
		"RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=+sbwt none +sbwtdcpu none +sbwtdio none -kernel inet_dist_use_interface {127,0,0,1}",
	)
	url := fmt.Sprintf("amqp://guest:guest@127.0.0.1:%d/", amqpPort)
	return &localBroker{
		kind:       "RabbitMQ",
		dir:        dir,
		path:       path,
		env:        env,
		logs:       []string{filepath.Join(dir, "log", node+".log")},
		ready:      func(ctx context.Context) error { return pingAMQP(ctx, url) },
		beforeKill: func(ctx context.Context) error { return syncSchema(ctx, path, env) },
	}, url, nil
}

// syncSchema flushes the node's Mnesia log, where RabbitMQ records queues,
// exchanges and bindings. RabbitMQ answers declare-ok before that log is
// necessarily written (its own mnesia_sync module says as much), and on a
// busy machine a SIGKILL within the next second or so lost a freshly
// declared durable queue, with the confirmed messages in it, in about one
// of five tries. A crash can do that to a real broker too, but it is not
// what fault tests are after: they test clients against the loss of
// connections and unconfirmed messages, and must not fail because the
// broker forgot a queue. The CLI costs about a second per Kill.
func syncSchema(ctx context.Context, serverPath string, env []string) error {
	ctl := exec.CommandContext(ctx, filepath.Join(filepath.Dir(serverPath), "rabbitmqctl"), "eval", "mnesia:sync_log().")
	ctl.Env = env // same node name and HOME, hence the same Erlang cookie
	out, err := ctl.CombinedOutput()
	if err != nil {
		return fmt.Errorf("rabbitmqctl eval mnesia:sync_log(): %w: %s", err, out)
	}
	return nil
}

// pingAMQP completes one AMQP handshake: RabbitMQ opens its listener only at
// the end of boot, so a handshake means the node is ready for clients.
func pingAMQP(ctx context.Context, url string) error {
	timeout := 2 * time.Second
	if d, ok := ctx.Deadline(); ok && time.Until(d) < timeout {
		timeout = max(time.Until(d), time.Millisecond)
	}
	conn, err := amqp.DialConfig(url, amqp.Config{Dial: amqp.DefaultDial(timeout)})
	if err != nil {
		return err
	}
	return conn.Close()
}

// cleanEnv is the process environment without variables that start with
// any of prefixes, so a developer's RabbitMQ settings cannot leak into a
// test node.
func cleanEnv(prefixes ...string) []string {
	var out []string
next:
	for _, kv := range os.Environ() {
		for _, p := range prefixes {
			if strings.HasPrefix(kv, p) {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
