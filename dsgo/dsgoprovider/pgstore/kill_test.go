package pgstore_test

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

	"github.com/notifykit/notifykit/dsgo/dsgoprovider"
	"github.com/notifykit/notifykit/dsgo/dsgoprovider/pgstore"
	"github.com/notifykit/notifykit/internal/pgtest"
)

const (
	childEnvDSN = "DSGO_PGSTORE_TEST_CHILD_DSN"
	childEnvURL = "DSGO_PGSTORE_TEST_CHILD_URL"
	childLease  = time.Second
	childBatch  = 5
)

// dispatchOnce is the dispatcher step every instance runs: claim due
// deliveries, POST each to the webhook, record the outcome.
func dispatchOnce(ctx context.Context, s dsgoprovider.Store, hookURL, worker string, lease time.Duration, limit int) (int, error) {
	ds, err := s.ClaimDeliveries(ctx, time.Now(), lease, limit)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(ds))
	for _, d := range ds {
		wg.Go(func() {
			start := time.Now()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, hookURL, bytes.NewReader(d.Body))
			req.Header.Set("X-Worker", worker)
			a := &dsgoprovider.Attempt{NotificationID: d.NotificationID, Number: d.Attempts + 1, At: start}
			resp, err := http.DefaultClient.Do(req)
			d.Attempts++
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				a.StatusCode = resp.StatusCode
			} else {
				a.Error = err.Error()
			}
			a.Duration = time.Since(start)
			if err == nil && resp.StatusCode == http.StatusOK {
				d.State, d.LastStatus, d.DoneAt = dsgoprovider.DeliveryDelivered, 200, time.Now()
			} else {
				d.NextAttempt, d.LastError = time.Now().Add(100*time.Millisecond), fmt.Sprint(err)
			}
			errs <- s.CompleteAttempt(ctx, &d, a)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return len(ds), err
		}
	}
	return len(ds), nil
}

// runChild is a provider instance in its own process: it claims a batch
// and starts delivering, and the test's webhook never answers it.
func runChild() int {
	ctx := context.Background()
	s, err := pgstore.Open(ctx, os.Getenv(childEnvDSN))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for {
		if _, err := dispatchOnce(ctx, s, os.Getenv(childEnvURL), "child", childLease, childBatch); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
}

// An instance SIGKILLed mid-dispatch: its claimed deliveries stay claimed
// until the lease ends, then the surviving instance delivers them. Every
// notification reaches the webhook; none is lost.
func TestKilledInstanceDeliveriesAreTakenOver(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	dsn := pgtest.New(t).URL
	s := open(t, dsn)
	const total = 60
	var ds []dsgoprovider.Delivery
	now := time.Now()
	for i := range total {
		id := fmt.Sprintf("not_%03d", i)
		ds = append(ds, dsgoprovider.Delivery{NotificationID: id, SubscriptionID: "sub_1", ConsumerID: "C",
			WebhookURL: "https://c.example/hook", Body: []byte(`{"id":"` + id + `"}`), CreatedAt: now})
	}
	if err := s.EnqueueDeliveries(ctx, ds); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	childGot := map[string]bool{}
	delivered := map[string]int{}
	childBusy := make(chan struct{}, total)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	defer hook.Close()

	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childEnvDSN+"="+dsn, childEnvURL+"="+hook.URL)
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
	killed := time.Now()

	survivor := open(t, dsn)
	for {
		list, err := survivor.ListDeliveries(ctx, "sub_1")
		if err != nil {
			t.Fatal(err)
		}
		done := 0
		for _, d := range list {
			if d.State == dsgoprovider.DeliveryDelivered {
				done++
			}
		}
		if done == total {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("%d of %d delivered", done, total)
		}
		n, err := dispatchOnce(ctx, survivor, hook.URL, "survivor", time.Minute, 10)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if d := time.Since(killed); d < childLease/2 {
		t.Errorf("all delivered %v after the kill: the dead instance's claims were not respected", d)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(childGot) != childBatch {
		t.Fatalf("child was mid-delivery of %d notifications, want %d", len(childGot), childBatch)
	}
	for _, d := range ds {
		if delivered[string(d.Body)] != 1 {
			t.Errorf("%s delivered %d times by the survivor", d.NotificationID, delivered[string(d.Body)])
		}
	}
	for body := range childGot {
		var id string
		fmt.Sscanf(body, `{"id":"%7s"}`, &id)
		d, err := survivor.GetDelivery(ctx, id)
		if err != nil || d.Attempts != 1 {
			t.Errorf("%s: %+v, %v (the child's attempt was never recorded)", id, d, err)
		}
	}
}
