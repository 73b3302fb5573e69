package webhookbench

import (
	"context"
	"testing"
	"time"
)

// TestScenarioRuns keeps the scenario working (both sides answer 200 to
// every request); the ratio itself is measured by internal/bench.
func TestScenarioRuns(t *testing.T) {
	for name, f := range map[string]func(context.Context) (float64, error){"sdk": SDK, "baseline": Baseline} {
		ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
		rate, err := f(ctx)
		cancel()
		if err != nil || rate <= 0 {
			t.Fatalf("%s: %v %v", name, rate, err)
		}
	}
}
