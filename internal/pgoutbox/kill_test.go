package pgoutbox

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/notifykit/notifykit/internal/pgtest"
)

const (
	childEnvDSN = "PGOUTBOX_TEST_CHILD_DSN"
	childEnvURL = "PGOUTBOX_TEST_CHILD_URL"
	childLease  = time.Second
	childBatch  = 5
)

// runChild is a dispatcher instance in its own process, for the SIGKILL
// test: it claims a batch and delivers to the test's server, which never
// answers it.
func runChild() int {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv(childEnvDSN))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	o, err := Open(ctx, pool, "dsgo")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	w := &Worker{ID: "child", Outbox: o, Lease: childLease, Batch: childBatch, Deliver: post(os.Getenv(childEnvURL), "child")}
	_ = w.Run(ctx)
	return 0
}

func post(url, worker string) func(context.Context, Item) error {
	return func(ctx context.Context, it Item) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(it.Payload))
		if err != nil {
			return err
		}
		req.Header.Set("X-Worker", worker)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
}

// An instance SIGKILLed in the middle of delivering leaves its claimed
// items leased; after the lease the other instance delivers every one of
// them. Nothing is lost.
func TestKilledInstanceWorkIsDeliveredByTheOther(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	dsn := pgtest.New(t).URL
	o := openOutbox(t, dsn)
	const total = 100
	enqueue(t, o, total)

	var mu sync.Mutex
	childGot := map[string]bool{}
	delivered := map[string]int{}
	childBusy := make(chan struct{}, total)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("X-Worker") == "child" {
			mu.Lock()
			childGot[string(body)] = true
			mu.Unlock()
			childBusy <- struct{}{}
			<-r.Context().Done() // mid-dispatch: the child never hears back
			return
		}
		mu.Lock()
		delivered[string(body)]++
		mu.Unlock()
	}))
	defer srv.Close()

	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childEnvDSN+"="+dsn, childEnvURL+"="+srv.URL)
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	for range childBatch {
		select {
		case <-childBusy:
		case <-ctx.Done():
			_ = child.Process.Kill()
			t.Fatal("child never started delivering")
		}
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	killedAt := time.Now()

	attempts := map[string]int{}
	w := &Worker{ID: "survivor", Outbox: o, Poll: 50 * time.Millisecond,
		Deliver: func(ctx context.Context, it Item) error {
			mu.Lock()
			attempts[string(it.Payload)] = it.Attempt
			mu.Unlock()
			return post(srv.URL, "survivor")(ctx, it)
		},
		OnError: func(err error) { t.Error(err) },
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- w.Run(wctx) }()
	for {
		c, err := o.Counts(ctx)
		if err == nil && c[StateDelivered] == total {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("counts %v: not all delivered", c)
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	<-done

	mu.Lock()
	defer mu.Unlock()
	if len(childGot) != childBatch {
		t.Fatalf("child was mid-delivery of %d items, want %d", len(childGot), childBatch)
	}
	for i := range total {
		id := fmt.Sprint("n", i)
		if delivered[id] != 1 {
			t.Errorf("%s delivered %d times by the survivor", id, delivered[id])
		}
	}
	for id := range childGot {
		if attempts[id] != 2 {
			t.Errorf("%s: survivor attempt %d, want 2 (after the dead child's)", id, attempts[id])
		}
	}
	if d := time.Since(killedAt); d < childLease {
		t.Errorf("everything delivered %v after the kill, before the %v lease could expire", d, childLease)
	}
}
