package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/notifykit/notifykit/dsgo"
	"github.com/notifykit/notifykit/dsgo/dsgoprovider"
	"github.com/notifykit/notifykit/dsgo/dsgoprovider/pgstore"
	"github.com/notifykit/notifykit/dsgo/dsgoprovider/storetest"
	"github.com/notifykit/notifykit/internal/pgtest"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnvDSN) != "" {
		os.Exit(runChild())
	}
	pgtest.Main(m)
}

func open(t *testing.T, dsn string, opts ...pgstore.Option) *pgstore.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := pgstore.Open(ctx, dsn, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// The subtests share one database, each with tables of its own.
func TestConformance(t *testing.T) {
	dsn := pgtest.New(t).URL
	n := 0
	storetest.Run(t, func(t *testing.T) dsgoprovider.Store {
		n++
		return open(t, dsn, pgstore.WithTablePrefix(fmt.Sprint("c", n)))
	})
}

// The contract again, every call going to the next of two instances on
// the same tables, so claims, completions and deactivations race across
// instances.
func TestConformanceAcrossInstances(t *testing.T) {
	dsn := pgtest.New(t).URL
	n := 0
	storetest.Run(t, func(t *testing.T) dsgoprovider.Store {
		n++
		prefix := pgstore.WithTablePrefix(fmt.Sprint("x", n))
		return &roundRobin{inst: []dsgoprovider.Store{open(t, dsn, prefix), open(t, dsn, prefix)}}
	})
}

type roundRobin struct {
	inst []dsgoprovider.Store
	n    atomic.Uint64
}

func (r *roundRobin) next() dsgoprovider.Store { return r.inst[r.n.Add(1)%uint64(len(r.inst))] }

func (r *roundRobin) CreateSubscription(ctx context.Context, s *dsgo.Subscription) error {
	return r.next().CreateSubscription(ctx, s)
}
func (r *roundRobin) GetSubscription(ctx context.Context, id string) (*dsgo.Subscription, error) {
	return r.next().GetSubscription(ctx, id)
}
func (r *roundRobin) ListSubscriptions(ctx context.Context, c string) ([]dsgo.Subscription, error) {
	return r.next().ListSubscriptions(ctx, c)
}
func (r *roundRobin) DeactivateSubscription(ctx context.Context, id string, at time.Time) (*dsgo.Subscription, error) {
	return r.next().DeactivateSubscription(ctx, id, at)
}
func (r *roundRobin) ExpireSubscriptions(ctx context.Context, now time.Time) ([]string, error) {
	return r.next().ExpireSubscriptions(ctx, now)
}
func (r *roundRobin) EnqueueDeliveries(ctx context.Context, ds []dsgoprovider.Delivery) error {
	return r.next().EnqueueDeliveries(ctx, ds)
}
func (r *roundRobin) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]dsgoprovider.Delivery, error) {
	return r.next().ClaimDeliveries(ctx, now, lease, limit)
}
func (r *roundRobin) CompleteAttempt(ctx context.Context, d *dsgoprovider.Delivery, a *dsgoprovider.Attempt) error {
	return r.next().CompleteAttempt(ctx, d, a)
}
func (r *roundRobin) GetDelivery(ctx context.Context, id string) (*dsgoprovider.Delivery, error) {
	return r.next().GetDelivery(ctx, id)
}
func (r *roundRobin) ListDeliveries(ctx context.Context, sub string) ([]dsgoprovider.Delivery, error) {
	return r.next().ListDeliveries(ctx, sub)
}
func (r *roundRobin) Attempts(ctx context.Context, id string) ([]dsgoprovider.Attempt, error) {
	return r.next().Attempts(ctx, id)
}
func (r *roundRobin) Close() error { return nil }

func TestSubscriptionJSONRoundTripKeepsUnknownFields(t *testing.T) {
	ctx := context.Background()
	s := open(t, pgtest.New(t).URL)
	var sub dsgo.Subscription
	if err := sub.UnmarshalJSON([]byte(`{"id":"sub_1","resource_type":"subscription","consumer_id":"C",
		"created_date":1763888400,"status":"active","event_type":["Modified"],"webhook_url":"https://c.example/h",
		"x_vendor":{"k":[1,2]}}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSubscription(ctx, &sub); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetSubscription(ctx, "sub_1")
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Extra["x_vendor"]) != `{"k":[1,2]}` || got.WebhookURL != "https://c.example/h" {
		t.Fatalf("round trip lost data: %+v", got)
	}
}

func TestOptionsValidate(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, "postgres://127.0.0.1:1/x")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	for name, opt := range map[string]pgstore.Option{"prefix": pgstore.WithTablePrefix("a-b"), "nil": nil} {
		if _, err := pgstore.NewStore(ctx, pool, opt); !errors.Is(err, pgstore.ErrInvalidOption) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := pgstore.NewStore(ctx, nil); !errors.Is(err, pgstore.ErrInvalidOption) {
		t.Errorf("nil pool: %v", err)
	}
}
