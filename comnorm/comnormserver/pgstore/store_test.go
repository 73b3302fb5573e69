package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/notifykit/notifykit/comnorm/comnormserver"
	"github.com/notifykit/notifykit/comnorm/comnormserver/internal/storetest"
	"github.com/notifykit/notifykit/comnorm/comnormserver/pgstore"
	"github.com/notifykit/notifykit/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

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

// The shared conformance suite. The subtests share one database, each
// with tables of its own (a fresh prefix), which isolates them as well as a
// database per subtest and costs less; Reopen is a new Store (new pool, new
// listener) on the same tables, as after a server restart.
func TestConformance(t *testing.T) {
	dsn := pgtest.New(t).URL
	n := 0
	prefixes := map[comnormserver.Store]string{}
	storetest.Run(t, storetest.Factory{
		New: func(t *testing.T) comnormserver.Store {
			n++
			prefix := fmt.Sprint("c", n)
			s := open(t, dsn, pgstore.WithTablePrefix(prefix))
			prefixes[s] = prefix
			return s
		},
		Reopen: func(t *testing.T, s comnormserver.Store) comnormserver.Store {
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			return open(t, dsn, pgstore.WithTablePrefix(prefixes[s]))
		},
	})
}

// The suite again with two stores on the same tables: everything written
// through one instance is read through the other.
func TestConformanceAcrossInstances(t *testing.T) {
	dsn := pgtest.New(t).URL
	n := 0
	storetest.Run(t, storetest.Factory{
		New: func(t *testing.T) comnormserver.Store {
			n++
			prefix := pgstore.WithTablePrefix(fmt.Sprint("x", n))
			return split{write: open(t, dsn, prefix), read: open(t, dsn, prefix)}
		},
	})
}

// split writes through one Store and reads and subscribes through another.
type split struct{ write, read *pgstore.Store }

func (s split) CreateQueue(ctx context.Context, q comnormserver.QueueRecord, max int) error {
	return s.write.CreateQueue(ctx, q, max)
}
func (s split) Queue(ctx context.Context, id string) (comnormserver.QueueRecord, error) {
	return s.read.Queue(ctx, id)
}
func (s split) DeleteQueue(ctx context.Context, id string) error { return s.write.DeleteQueue(ctx, id) }
func (s split) Append(ctx context.Context, q string, m comnormserver.MessageRecord, max int) error {
	return s.write.Append(ctx, q, m, max)
}
func (s split) Peek(ctx context.Context, q string, n int) ([]comnormserver.MessageRecord, error) {
	return s.read.Peek(ctx, q, n)
}
func (s split) DeleteMessage(ctx context.Context, q, id string) error {
	return s.read.DeleteMessage(ctx, q, id)
}
func (s split) Subscribe(q string) (<-chan struct{}, func()) { return s.read.Subscribe(q) }
func (s split) Close() error                                 { return errors.Join(s.write.Close(), s.read.Close()) }

func TestTablePrefixSeparatesStores(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.New(t).URL
	a, b := open(t, dsn), open(t, dsn, pgstore.WithTablePrefix("other"))
	if err := a.CreateQueue(ctx, comnormserver.QueueRecord{ID: "q", Owner: "o"}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Queue(ctx, "q"); !errors.Is(err, comnormserver.ErrQueueNotFound) {
		t.Fatalf("queue visible under another prefix: %v", err)
	}
}

func TestOptionsValidate(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, "postgres://127.0.0.1:1/x")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	for name, opt := range map[string]pgstore.Option{
		"prefix":  pgstore.WithTablePrefix("bad-prefix"),
		"empty":   pgstore.WithTablePrefix(""),
		"logger":  pgstore.WithLogger(nil),
		"onerror": pgstore.WithOnError(nil),
		"nil":     nil,
	} {
		if _, err := pgstore.NewStore(ctx, pool, opt); !errors.Is(err, pgstore.ErrInvalidOption) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := pgstore.NewStore(ctx, nil); !errors.Is(err, pgstore.ErrInvalidOption) {
		t.Errorf("nil pool: %v", err)
	}
}

func TestConfigure(t *testing.T) {
	ctx := context.Background()
	var cfg comnormserver.Config
	t.Setenv(pgstore.DSNEnv, "")
	closeFn, err := pgstore.Configure(ctx, &cfg, "")
	if err != nil || cfg.Store != nil {
		t.Fatalf("no DSN: store %v, err %v", cfg.Store, err)
	}
	_ = closeFn()
	t.Setenv(pgstore.DSNEnv, pgtest.New(t).URL)
	closeFn, err = pgstore.Configure(ctx, &cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	if _, ok := cfg.Store.(*pgstore.Store); !ok {
		t.Fatalf("Store = %T", cfg.Store)
	}
}
