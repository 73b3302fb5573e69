// Package backoff computes retry delays: a jittered exponential default and a
// context-aware sleep. The function type keeps policies trivially pluggable:
// any func(attempt int) time.Duration is one.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Func returns the delay before retry number attempt (the first retry is
// attempt 1; attempt 0 and below get the first delay too).
type Func func(attempt int) time.Duration

// Exponential doubles the delay from base up to max and spreads each delay
// uniformly over its upper half (d/2 .. d), so that many clients failing at
// once do not retry in lockstep. It panics on a non-positive base or a max
// below base, which are programming errors.
func Exponential(base, max time.Duration) Func {
	if base <= 0 || max < base {
		panic("backoff: Exponential needs 0 < base <= max")
	}
	return func(attempt int) time.Duration {
		d := base
		for i := 1; i < attempt && d < max; i++ {
			d *= 2
		}
		if d > max {
			d = max
		}
		half := d / 2
		return half + rand.N(d-half+1)
	}
}

// Constant always waits d; tests use it to make retries fast and predictable.
func Constant(d time.Duration) Func { return func(int) time.Duration { return d } }

// Sleep waits for d or until ctx is done, whichever comes first, and returns
// ctx.Err() in the latter case.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
