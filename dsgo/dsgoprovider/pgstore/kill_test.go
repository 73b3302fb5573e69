package pgstore_test

import (
	"context"
	"crypto/x509"
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

	"github.com/notifykit/notifykit/dsgo"
	"github.com/notifykit/notifykit/dsgo/dsgoprovider"
	"github.com/notifykit/notifykit/dsgo/dsgoprovider/pgstore"
	"github.com/notifykit/notifykit/internal/pgtest"
)

const (
	childEnvDSN = "DSGO_PGSTORE_TEST_CHILD_DSN"
	childConc   = 5 // the dispatcher claims 4× this per round
)

// provider is a dsgoprovider instance on store as a deployment runs it,
// minus TLS; now shifts its clock.
func provider(store dsgoprovider.Store, now func() time.Time) (*dsgoprovider.Server, error) {
	return dsgoprovider.New("EU.EORI.NLPROVIDER", x509.NewCertPool(), store,
		dsgoprovider.WithWebhookAuth(dsgoprovider.NoWebhookAuth()),
		dsgoprovider.WithAllowHTTPWebhooks(), dsgoprovider.WithAllowPrivateTargets(),
		dsgoprovider.WithConcurrency(childConc), dsgoprovider.WithPollInterval(50*time.Millisecond),
		dsgoprovider.WithClock(now))
}

// runChild is a provider instance in its own process, running its
// dispatcher until the test SIGKILLs it.
func runChild() int {
	ctx := context.Background()
	s, err := pgstore.Open(ctx, os.Getenv(childEnvDSN))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	p, err := provider(s, time.Now)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	_ = p.Run(ctx)
	return 0
}

// A provider instance is SIGKILLed in the middle of dispatching: the
// deliveries it had claimed stay claimed until their lease ends, and then
// the other instance's dispatcher delivers every one of them. The survivor
// runs an hour ahead (WithClock) instead of the test waiting out the
// dispatcher's lease (twice the attempt timeout plus 30 s).
func TestKilledProviderInstanceDeliveriesAreTakenOver(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	dsn := pgtest.New(t).URL
	s := open(t, dsn)

	var mu sync.Mutex
	killed := false
	delivered := map[string]int{}
	childBusy := make(chan struct{}, 100)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		if !killed {
			mu.Unlock()
			childBusy <- struct{}{}
			<-r.Context().Done() // mid-dispatch: the child never hears back
			return
		}
		delivered[string(body)]++
		mu.Unlock()
	}))
	defer hook.Close()

	now := time.Now()
	sub := &dsgo.Subscription{ID: "sub_1", ResourceType: "subscription", CreatedDate: dsgo.Unix(now),
		StartDate: dsgo.Unix(now), ConsumerID: "C", ProviderID: "P", EventTypes: []string{"Modified"},
		Status: dsgo.StatusActive, WebhookURL: hook.URL}
	if err := s.CreateSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	const total = 60
	var ds []dsgoprovider.Delivery
	for i := range total {
		id := fmt.Sprintf("not_%03d", i)
		ds = append(ds, dsgoprovider.Delivery{NotificationID: id, SubscriptionID: "sub_1", ConsumerID: "C",
			WebhookURL: hook.URL, Body: []byte(`{"id":"` + id + `"}`), CreatedAt: now})
	}
	if err := s.EnqueueDeliveries(ctx, ds); err != nil {
		t.Fatal(err)
	}

	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childEnvDSN+"="+dsn)
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	for range childConc {
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
	mu.Lock()
	killed = true
	mu.Unlock()

	claimed := 0
	list, err := s.ListDeliveries(ctx, "sub_1")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range list {
		if d.ClaimToken != "" {
			claimed++
		}
	}
	if claimed == 0 {
		t.Fatal("the killed instance held no claims; the test proves nothing")
	}

	// Real time: the dead instance's claims are live, nothing is taken.
	survivor, err := provider(open(t, dsn), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	attempted := 0
	for {
		n, err := survivor.DispatchOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		attempted += n
	}
	if attempted != total-claimed {
		t.Fatalf("survivor attempted %d, want the %d unclaimed ones", attempted, total-claimed)
	}
	// An hour later every lease has expired.
	later, err := provider(open(t, dsn), func() time.Time { return time.Now().Add(time.Hour) })
	if err != nil {
		t.Fatal(err)
	}
	for {
		n, err := later.DispatchOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, d := range ds {
		if delivered[string(d.Body)] != 1 {
			t.Errorf("%s delivered %d times after the kill", d.NotificationID, delivered[string(d.Body)])
		}
	}
	list, err = s.ListDeliveries(ctx, "sub_1")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range list {
		if d.State != dsgoprovider.DeliveryDelivered || d.Attempts != 1 {
			t.Errorf("%s: state %s after %d attempts", d.NotificationID, d.State, d.Attempts)
		}
	}
	t.Logf("killed instance held %d of %d deliveries; all delivered by the survivor", claimed, total)
}
