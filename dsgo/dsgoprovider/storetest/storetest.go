// Package storetest is the contract every dsgoprovider.Store must meet,
// as a test suite: the embedded stores run it, and so must any other
// implementation (a shared database store for several provider instances).
//
//	func TestMyStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) dsgoprovider.Store { return openMyStore(t) })
//	}
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/notifykit/notifykit/dsgo"
	"github.com/notifykit/notifykit/dsgo/dsgoprovider"
)

// Run runs the contract against fresh stores from newStore. newStore should
// register the store's cleanup with t.
func Run(t *testing.T, newStore func(t *testing.T) dsgoprovider.Store) {
	t.Run("SubscriptionLifecycle", func(t *testing.T) { subscriptionLifecycle(t, newStore(t)) })
	t.Run("Expiry", func(t *testing.T) { expiry(t, newStore(t)) })
	t.Run("OutboxClaimAndComplete", func(t *testing.T) { outbox(t, newStore(t)) })
	t.Run("ConcurrentClaimsAreExclusive", func(t *testing.T) { concurrentClaims(t, newStore(t)) })
	t.Run("ConcurrentDeactivate", func(t *testing.T) { concurrentDeactivate(t, newStore(t)) })
}

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func sub(id, consumer string, created time.Time) *dsgo.Subscription {
	return &dsgo.Subscription{ID: id, ResourceType: "subscription", URL: "/subscriptions/" + id,
		CreatedDate: dsgo.Unix(created), StartDate: dsgo.Unix(created), ConsumerID: consumer, ProviderID: "P",
		EventTypes: []string{"Modified", "Deleted"}, Status: dsgo.StatusActive, WebhookURL: "https://c.example/hook"}
}

func subscriptionLifecycle(t *testing.T, s dsgoprovider.Store) {
	ctx := context.Background()
	must(t, s.CreateSubscription(ctx, sub("sub_b", "C1", t0.Add(time.Second))))
	must(t, s.CreateSubscription(ctx, sub("sub_a", "C1", t0)))
	must(t, s.CreateSubscription(ctx, sub("sub_c", "C2", t0)))
	if err := s.CreateSubscription(ctx, sub("sub_a", "C1", t0)); !errors.Is(err, dsgoprovider.ErrConflict) {
		t.Fatalf("duplicate create: %v", err)
	}
	got, err := s.GetSubscription(ctx, "sub_a")
	must(t, err)
	if got.ConsumerID != "C1" || got.Status != dsgo.StatusActive || len(got.EventTypes) != 2 || !got.CreatedDate.Equal(t0) {
		t.Fatalf("get: %+v", got)
	}
	if _, err := s.GetSubscription(ctx, "sub_x"); !errors.Is(err, dsgo.ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}
	list, err := s.ListSubscriptions(ctx, "C1")
	must(t, err)
	if len(list) != 2 || list[0].ID != "sub_a" || list[1].ID != "sub_b" {
		t.Fatalf("list C1 (oldest first): %v", ids(list))
	}
	all, err := s.ListSubscriptions(ctx, "")
	must(t, err)
	if len(all) != 3 {
		t.Fatalf("list all: %v", ids(all))
	}
	at := t0.Add(time.Hour)
	d, err := s.DeactivateSubscription(ctx, "sub_a", at)
	must(t, err)
	if d.Status != dsgo.StatusInactive || !d.EndDate.Equal(at) {
		t.Fatalf("deactivated: %+v", d)
	}
	if _, err := s.DeactivateSubscription(ctx, "sub_a", at); !errors.Is(err, dsgo.ErrNotActive) {
		t.Fatalf("second deactivate: %v", err)
	}
	if _, err := s.DeactivateSubscription(ctx, "sub_x", at); !errors.Is(err, dsgo.ErrNotFound) {
		t.Fatalf("deactivate unknown: %v", err)
	}
	again, err := s.GetSubscription(ctx, "sub_a")
	must(t, err)
	if again.Status != dsgo.StatusInactive {
		t.Fatal("soft delete: the subscription must stay readable as inactive")
	}
}

func expiry(t *testing.T, s dsgoprovider.Store) {
	ctx := context.Background()
	ends := sub("sub_end", "C", t0)
	ends.EndDate = dsgo.Unix(t0.Add(time.Minute))
	must(t, s.CreateSubscription(ctx, ends))
	must(t, s.CreateSubscription(ctx, sub("sub_forever", "C", t0)))
	got, err := s.ExpireSubscriptions(ctx, t0.Add(59*time.Second))
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("expired early: %v", got)
	}
	got, err = s.ExpireSubscriptions(ctx, t0.Add(time.Minute))
	must(t, err)
	if len(got) != 1 || got[0] != "sub_end" {
		t.Fatalf("expired: %v", got)
	}
	e, _ := s.GetSubscription(ctx, "sub_end")
	if e.Status != dsgo.StatusInactive {
		t.Fatal("not inactive after expiry")
	}
}

func delivery(id, sub string, at time.Time) dsgoprovider.Delivery {
	return dsgoprovider.Delivery{NotificationID: id, SubscriptionID: sub, ConsumerID: "C",
		WebhookURL: "https://c.example/hook", Body: []byte(`{"id":"` + id + `"}`), CreatedAt: at}
}

func outbox(t *testing.T, s dsgoprovider.Store) {
	ctx := context.Background()
	must(t, s.EnqueueDeliveries(ctx, []dsgoprovider.Delivery{delivery("n2", "s1", t0.Add(time.Second)), delivery("n1", "s1", t0)}))
	// Re-enqueueing is a no-op, not a reset.
	must(t, s.EnqueueDeliveries(ctx, []dsgoprovider.Delivery{delivery("n1", "s1", t0)}))
	if _, err := s.GetDelivery(ctx, "nope"); !errors.Is(err, dsgo.ErrNotFound) {
		t.Fatalf("unknown delivery: %v", err)
	}
	if c, _ := s.ClaimDeliveries(ctx, t0.Add(-time.Second), time.Minute, 10); len(c) != 0 {
		t.Fatalf("claimed before due: %d", len(c))
	}
	c, err := s.ClaimDeliveries(ctx, t0.Add(time.Second), time.Minute, 1)
	must(t, err)
	if len(c) != 1 || c[0].NotificationID != "n1" || c[0].ClaimToken == "" || string(c[0].Body) != `{"id":"n1"}` {
		t.Fatalf("first claim (oldest due first, limit 1): %+v", c)
	}
	first := c[0]
	c, err = s.ClaimDeliveries(ctx, t0.Add(2*time.Second), time.Minute, 10)
	must(t, err)
	if len(c) != 1 || c[0].NotificationID != "n2" {
		t.Fatalf("a live claim was handed out again: %+v", c)
	}
	second := c[0]

	// A failed attempt with a retry time.
	first.Attempts, first.LastStatus, first.LastError = 1, 503, "HTTP 503"
	first.NextAttempt = t0.Add(time.Hour)
	must(t, s.CompleteAttempt(ctx, &first, &dsgoprovider.Attempt{NotificationID: "n1", Number: 1, At: t0.Add(time.Second), StatusCode: 503, Error: "HTTP 503"}))
	if err := s.CompleteAttempt(ctx, &first, nil); !errors.Is(err, dsgoprovider.ErrClaimLost) {
		t.Fatalf("completing twice with one claim: %v", err)
	}
	if c, _ := s.ClaimDeliveries(ctx, t0.Add(30*time.Second), time.Minute, 10); len(c) != 0 {
		t.Fatalf("claimed before its retry time: %+v", c)
	}

	// An expired claim is taken over; the old holder can no longer record.
	c, err = s.ClaimDeliveries(ctx, t0.Add(2*time.Second+time.Minute), time.Minute, 10)
	must(t, err)
	if len(c) != 1 || c[0].NotificationID != "n2" || c[0].ClaimToken == second.ClaimToken {
		t.Fatalf("expired claim not reclaimed: %+v", c)
	}
	second.State = dsgoprovider.DeliveryDelivered
	if err := s.CompleteAttempt(ctx, &second, nil); !errors.Is(err, dsgoprovider.ErrClaimLost) {
		t.Fatalf("stale holder recorded: %v", err)
	}
	taken := c[0]
	taken.State, taken.Attempts, taken.LastStatus, taken.DoneAt = dsgoprovider.DeliveryDelivered, 1, 200, t0.Add(2*time.Minute)
	must(t, s.CompleteAttempt(ctx, &taken, &dsgoprovider.Attempt{NotificationID: "n2", Number: 1, At: t0.Add(2 * time.Minute), StatusCode: 200}))

	c, err = s.ClaimDeliveries(ctx, t0.Add(time.Hour), time.Minute, 10)
	must(t, err)
	if len(c) != 1 || c[0].NotificationID != "n1" || c[0].Attempts != 1 {
		t.Fatalf("retry claim: %+v", c)
	}
	retry := c[0]
	retry.State, retry.Attempts, retry.LastStatus, retry.LastError = dsgoprovider.DeliveryFailed, 2, 400, "HTTP 400"
	retry.DoneAt = t0.Add(time.Hour)
	must(t, s.CompleteAttempt(ctx, &retry, &dsgoprovider.Attempt{NotificationID: "n1", Number: 2, At: t0.Add(time.Hour), StatusCode: 400, Error: "HTTP 400"}))

	if c, _ := s.ClaimDeliveries(ctx, t0.Add(48*time.Hour), time.Minute, 10); len(c) != 0 {
		t.Fatalf("terminal deliveries claimed: %+v", c)
	}
	d1, err := s.GetDelivery(ctx, "n1")
	must(t, err)
	if d1.State != dsgoprovider.DeliveryFailed || d1.Attempts != 2 || d1.LastStatus != 400 || d1.ClaimToken != "" {
		t.Fatalf("n1: %+v", d1)
	}
	att, err := s.Attempts(ctx, "n1")
	must(t, err)
	if len(att) != 2 || att[0].StatusCode != 503 || att[1].Number != 2 {
		t.Fatalf("attempts: %+v", att)
	}
	list, err := s.ListDeliveries(ctx, "s1")
	must(t, err)
	if len(list) != 2 || list[0].NotificationID != "n1" || list[1].State != dsgoprovider.DeliveryDelivered {
		t.Fatalf("list: %+v", list)
	}
}

func concurrentClaims(t *testing.T, s dsgoprovider.Store) {
	ctx := context.Background()
	const n = 200
	var ds []dsgoprovider.Delivery
	for i := range n {
		ds = append(ds, delivery(fmt.Sprintf("n%03d", i), "s", t0))
	}
	must(t, s.EnqueueDeliveries(ctx, ds))
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				c, err := s.ClaimDeliveries(ctx, t0, time.Hour, 7)
				if err != nil {
					t.Error(err)
					return
				}
				if len(c) == 0 {
					return
				}
				for _, d := range c {
					mu.Lock()
					seen[d.NotificationID]++
					mu.Unlock()
					d.State, d.Attempts = dsgoprovider.DeliveryDelivered, 1
					if err := s.CompleteAttempt(ctx, &d, nil); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("claimed %d distinct deliveries, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Fatalf("%s claimed %d times", id, c)
		}
	}
}

func concurrentDeactivate(t *testing.T, s dsgoprovider.Store) {
	ctx := context.Background()
	must(t, s.CreateSubscription(ctx, sub("sub_race", "C", t0)))
	var ok, notActive int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, err := s.DeactivateSubscription(ctx, "sub_race", t0)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, dsgo.ErrNotActive):
				notActive++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok != 1 || notActive != 7 {
		t.Fatalf("%d succeeded, %d not active; want 1 and 7", ok, notActive)
	}
}

func ids(l []dsgo.Subscription) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = s.ID
	}
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
