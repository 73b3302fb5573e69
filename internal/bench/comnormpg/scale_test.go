package comnormpg

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/notifykit/notifykit/internal/pgtest"
)

// A small run of both shapes: the benchmark must work, whatever the numbers.
func TestRateOneAndTwoInstances(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b, err := New(ctx, Config{Queues: 4, Messages: 30})
	if err != nil {
		if os.Getenv("NOTIFYKIT_REQUIRE_BROKERS") != "1" && errors.Is(err, pgtest.ErrNoBinaries) {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	defer b.Close()
	for _, n := range []int{1, 2} {
		r, err := b.Rate(ctx, n)
		if err != nil {
			t.Fatalf("%d instances: %v", n, err)
		}
		if r <= 0 {
			t.Fatalf("%d instances: rate %v", n, r)
		}
		t.Logf("%d instance(s): %.0f msg/s", n, r)
	}
	if _, err := b.Rate(ctx, 0); err == nil {
		t.Fatal("zero instances accepted")
	}
}

func BenchmarkScale(b *testing.B) {
	ctx := context.Background()
	bench, err := New(ctx, Config{})
	if err != nil {
		b.Skip(err)
	}
	defer bench.Close()
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprint(n, "instances"), func(b *testing.B) {
			var r float64
			for b.Loop() {
				if r, err = bench.Rate(ctx, n); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(r, "msg/s")
		})
	}
}
