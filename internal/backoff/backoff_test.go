package backoff

import (
	"context"
	"testing"
	"time"
)

func TestExponentialGrowsAndCaps(t *testing.T) {
	f := Exponential(100*time.Millisecond, time.Second)
	cases := []struct {
		attempt  int
		min, max time.Duration
	}{
		{0, 50 * time.Millisecond, 100 * time.Millisecond},
		{1, 50 * time.Millisecond, 100 * time.Millisecond},
		{2, 100 * time.Millisecond, 200 * time.Millisecond},
		{3, 200 * time.Millisecond, 400 * time.Millisecond},
		{5, 500 * time.Millisecond, time.Second},
		{1000, 500 * time.Millisecond, time.Second},
	}
	for _, c := range cases {
		for range 200 {
			if d := f(c.attempt); d < c.min || d > c.max {
				t.Fatalf("attempt %d: %v not in [%v, %v]", c.attempt, d, c.min, c.max)
			}
		}
	}
}

func TestExponentialJitters(t *testing.T) {
	f := Exponential(time.Second, time.Minute)
	seen := map[time.Duration]bool{}
	for range 50 {
		seen[f(3)] = true
	}
	if len(seen) < 10 {
		t.Fatalf("only %d distinct delays in 50 draws: no jitter", len(seen))
	}
}

func TestExponentialRejectsBadArguments(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for base 0")
		}
	}()
	Exponential(0, time.Second)
}

func TestSleepStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := Sleep(ctx, time.Hour); err != context.Canceled {
		t.Fatalf("Sleep = %v, want context.Canceled", err)
	}
	if time.Since(start) > time.Second {
		t.Fatal("Sleep ignored the cancelled context")
	}
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatalf("Sleep = %v", err)
	}
}
