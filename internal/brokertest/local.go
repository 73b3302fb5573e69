package brokertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// stopGrace bounds a clean shutdown before the harness resorts to SIGKILL.
const stopGrace = 60 * time.Second

// localBroker runs a broker binary installed on this machine, with its own
// ports and data directory, and can stop, kill and start it again on the
// same ports and data.
type localBroker struct {
	kind  string   // "RabbitMQ" or "Mosquitto", for messages
	dir   string   // private data directory, removed by close
	path  string   // executable
	args  []string // arguments
	env   []string // complete environment
	logs  []string // files whose tail explains a failed start
	ready func(ctx context.Context) error
	// beforeKill, when set, runs before SIGKILL; errors are ignored because
	// a broker being killed may well be unable to answer.
	beforeKill func(ctx context.Context) error

	mu     sync.Mutex
	p      *proc // nil while stopped
	closed bool
}

var errClosed = errors.New("brokertest: broker was closed")

func (l *localBroker) start(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return errClosed
	}
	if l.p != nil && !l.p.exited() {
		return nil
	}
	if l.p != nil { // died on its own: clear what it left behind
		l.p.kill()
		l.p = nil
	}
	out, err := os.OpenFile(filepath.Join(l.dir, "output.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("brokertest: %w", err)
	}
	defer out.Close() // the child holds its own copy
	p, err := spawn(l.path, l.args, l.env, l.dir, out)
	if err != nil {
		return fmt.Errorf("brokertest: %s: %w", l.kind, err)
	}
	if err := l.waitReady(ctx, p); err != nil {
		p.kill()
		return fmt.Errorf("brokertest: start %s: %w%s", l.kind, err, l.logTail())
	}
	l.p = p
	return nil
}

// waitReady polls the broker's own protocol until it answers, the process
// dies or ctx ends. Polling a real handshake rather than sleeping is what
// keeps a RabbitMQ start at a few seconds.
func (l *localBroker) waitReady(ctx context.Context, p *proc) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := l.ready(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%w (%v) before it accepted connections", errExited, p.err)
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w (last attempt: %v)", ctx.Err(), err)
		case <-tick.C:
		}
	}
}

func (l *localBroker) stop(context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.p == nil {
		return nil
	}
	err := l.p.terminate(stopGrace)
	l.p = nil
	if err != nil {
		return fmt.Errorf("brokertest: stop %s: %w", l.kind, err)
	}
	return nil
}

func (l *localBroker) kill() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.p == nil {
		return nil
	}
	if l.beforeKill != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_ = l.beforeKill(ctx)
		cancel()
	}
	l.p.kill()
	l.p = nil
	return nil
}

func (l *localBroker) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	var err error
	if l.p != nil {
		err = l.p.terminate(stopGrace)
		l.p = nil
	}
	return errors.Join(err, os.RemoveAll(l.dir))
}

// logTail returns the last lines of the broker's logs, for start errors.
func (l *localBroker) logTail() string {
	var b bytes.Buffer
	for _, name := range append([]string{filepath.Join(l.dir, "output.log")}, l.logs...) {
		data, err := os.ReadFile(name)
		if err != nil || len(bytes.TrimSpace(data)) == 0 {
			continue
		}
		lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
		if len(lines) > 15 {
			lines = lines[len(lines)-15:]
		}
		fmt.Fprintf(&b, "\n--- %s (last lines) ---\n%s", name, bytes.Join(lines, []byte("\n")))
	}
	return b.String()
}
