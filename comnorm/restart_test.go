package comnorm_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/notifykit/notifykit/comnorm"
	"github.com/notifykit/notifykit/comnorm/comnormserver"
	"github.com/notifykit/notifykit/internal/backoff"
)

// durableServer runs comnormserver.ListenAndServe with the bbolt store on
// addr until the returned stop function is called.
func durableServer(t *testing.T, addr, dir string, auth comnormserver.Authenticator) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(bg)
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- comnormserver.ListenAndServe(ctx, comnormserver.Config{Addr: addr, DataDir: dir, Auth: auth, Ready: func(a net.Addr) { ready <- a }})
	}()
	select {
	case a := <-ready:
		var once sync.Once
		stop := func() {
			once.Do(func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("server: %v", err)
				}
			})
		}
		t.Cleanup(stop)
		return a.String(), stop
	case err := <-done:
		t.Fatalf("server: %v", err)
	}
	cancel()
	return "", nil
}

// TestConsumerContinuesAcrossServerRestart restarts the durable server
// while the consumer is working through 300 messages; the consumer must
// carry on by itself and every message must be handled.
func TestConsumerContinuesAcrossServerRestart(t *testing.T) {
	const total = 300
	dir := t.TempDir()
	auth, _ := comnormserver.NewStaticKeys(map[string]string{"p": "partner-key-0123456789"})
	addr, stop := durableServer(t, "127.0.0.1:0", dir, auth)
	c, err := comnorm.NewClient("partner-key-0123456789", comnorm.WithBaseURL("http://"+addr+"/api"), comnorm.WithRetry(2, backoff.Constant(20*time.Millisecond)))
	if err != nil {
		t.Fatal(err)
	}
	q, err := c.CreateQueue(bg)
	if err != nil {
		t.Fatal(err)
	}
	postN(t, q, 0, total)

	var mu sync.Mutex
	seen := map[int]int{}
	restart := make(chan struct{})
	cons, _ := comnorm.NewConsumer(c, q.ID, fastOpts(comnorm.WithConcurrency(3), comnorm.WithBatch(10))...)
	cons.OnMessage(func(ctx context.Context, e *comnorm.Event) error {
		var v numbered
		if err := e.Decode(&v); err != nil {
			return err
		}
		mu.Lock()
		seen[v.N]++
		if len(seen) == total/3 {
			close(restart)
		}
		mu.Unlock()
		time.Sleep(time.Millisecond)
		return nil
	})
	stopConsumer := runConsumer(t, cons)
	<-restart
	stop()
	time.Sleep(200 * time.Millisecond) // the consumer sees connection errors
	mu.Lock()
	atRestart := len(seen)
	mu.Unlock()
	if atRestart == total {
		t.Fatal("consumer finished before the restart")
	}
	durableServer(t, addr, dir, auth)
	waitUntil(t, 20*time.Second, "all messages", func() bool { mu.Lock(); defer mu.Unlock(); return len(seen) == total })
	waitUntil(t, 5*time.Second, "empty queue", func() bool { return queueLen(t, c, q) == 0 })
	if err := stopConsumer(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	dups := 0
	for _, k := range seen {
		dups += k - 1
	}
	t.Logf("restart after %d of %d messages; %d redelivered", atRestart, total, dups)
}
