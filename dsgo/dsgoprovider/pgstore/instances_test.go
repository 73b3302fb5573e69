package pgstore_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/notifykit/notifykit/dsgo"
	"github.com/notifykit/notifykit/dsgo/dsgoprovider"
	"github.com/notifykit/notifykit/internal/pgtest"
)

// Two provider instances run their dispatchers on one database: claims
// are exclusive, so every notification reaches the webhook exactly once.
func TestTwoDispatchersShareTheOutbox(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	dsn := pgtest.New(t).URL
	var mu sync.Mutex
	got := map[string]int{}
	all := make(chan struct{})
	const total = 200
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		got[string(body)]++
		if len(got) == total && got[string(body)] == 1 {
			close(all)
		}
	}))
	defer hook.Close()

	a, b := open(t, dsn), open(t, dsn)
	now := time.Now()
	if err := a.CreateSubscription(ctx, &dsgo.Subscription{ID: "sub_1", ResourceType: "subscription",
		CreatedDate: dsgo.Unix(now), StartDate: dsgo.Unix(now), ConsumerID: "C", ProviderID: "P",
		EventTypes: []string{"Modified"}, Status: dsgo.StatusActive, WebhookURL: hook.URL}); err != nil {
		t.Fatal(err)
	}
	var ds []dsgoprovider.Delivery
	for i := range total {
		id := fmt.Sprintf("not_%03d", i)
		ds = append(ds, dsgoprovider.Delivery{NotificationID: id, SubscriptionID: "sub_1", ConsumerID: "C",
			WebhookURL: hook.URL, Body: []byte(`{"id":"` + id + `"}`), CreatedAt: now})
	}
	if err := a.EnqueueDeliveries(ctx, ds); err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, s := range []dsgoprovider.Store{a, b} {
		p, err := provider(s, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { _ = p.Run(rctx) })
	}
	select {
	case <-all:
	case <-ctx.Done():
		t.Fatalf("%d of %d delivered", len(got), total)
	}
	stop()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	for _, d := range ds {
		if n := got[string(d.Body)]; n != 1 {
			t.Errorf("%s delivered %d times", d.NotificationID, n)
		}
	}
}

// PostgreSQL crashes and restarts under a running store: the store serves
// again without being reopened, and the outbox survived.
func TestStoreRecoversFromDatabaseCrash(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewServer(t)
	s := open(t, db.URL)
	now := time.Now()
	if err := s.EnqueueDeliveries(ctx, []dsgoprovider.Delivery{{NotificationID: "not_1", SubscriptionID: "sub_1",
		ConsumerID: "C", WebhookURL: "https://c.example/h", Body: []byte(`{}`), CreatedAt: now}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := db.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var claimed []dsgoprovider.Delivery
	var err error
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if claimed, err = s.ClaimDeliveries(ctx, now, time.Minute, 10); err == nil {
			break
		}
	}
	if err != nil || len(claimed) != 1 || claimed[0].NotificationID != "not_1" {
		t.Fatalf("after the crash: %+v, %v", claimed, err)
	}
}
