package pgopen

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/notifykit/notifykit/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestOwnedClosesThePoolWhenTheStoreFails(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dsn := pgtest.New(t).URL

	boom := errors.New("schema migration failed")
	var pool *pgxpool.Pool
	_, err := Owned(ctx, "test", dsn, func(ctx context.Context, p *pgxpool.Pool) (int, error) {
		pool = p
		return 0, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the store's error", err)
	}
	if pool.Ping(ctx) == nil {
		t.Fatal("pool still usable after a failed Open: its connections leak")
	}

	got, err := Owned(ctx, "test", dsn, func(ctx context.Context, p *pgxpool.Pool) (*pgxpool.Pool, error) {
		return p, p.Ping(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
	got.Close()
}

func TestOwnedNamesBadDSN(t *testing.T) {
	_, err := Owned(context.Background(), "pgdedupe", "postgres://%zz", func(context.Context, *pgxpool.Pool) (int, error) {
		t.Fatal("store built without a pool")
		return 0, nil
	})
	if err == nil || !strings.HasPrefix(err.Error(), "pgdedupe: ") {
		t.Fatalf("err = %v, want it prefixed with the store's name", err)
	}
}
