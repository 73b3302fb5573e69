package dsgo

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestHashDedupe(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	d := newHashDedupe(32, func() time.Time { return now }) // 2 per shard
	claim := func(id string) bool {
		ok, err := d.Claim(ctx, id, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !claim("a") || claim("a") {
		t.Fatal("second claim of a live id succeeded")
	}
	_ = d.Release(ctx, "a")
	if !claim("a") {
		t.Fatal("released id not claimable")
	}
	_ = d.Commit(ctx, "a", time.Hour)
	now = now.Add(59 * time.Minute)
	if claim("a") {
		t.Fatal("committed id claimable within its TTL")
	}
	now = now.Add(2 * time.Minute)
	if !claim("a") {
		t.Fatal("expired id not claimable")
	}
	// Capacity: many ids never grow the store past its bound, and the
	// newest ids are still remembered.
	for i := range 10_000 {
		id := fmt.Sprint("n", i)
		if !claim(id) {
			t.Fatalf("fresh id %s refused", id)
		}
		_ = d.Commit(ctx, id, time.Hour)
	}
	if n := d.len(); n > 32 {
		t.Fatalf("store holds %d ids, capacity 32", n)
	}
	if claim("n9999") {
		t.Fatal("newest id forgotten")
	}
	// Released slots are skipped safely on eviction.
	for i := range 100 {
		id := fmt.Sprint("r", i)
		claim(id)
		_ = d.Release(ctx, id)
	}
	if n := d.len(); n > 32 {
		t.Fatalf("store holds %d ids after releases", n)
	}
}
