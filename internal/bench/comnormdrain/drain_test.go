package comnormdrain

import (
	"context"
	"testing"
	"time"
)

// TestWorkloadSmall runs every part of the benchmark on a small scale so
// the workload cannot rot between benchmark runs.
func TestWorkloadSmall(t *testing.T) {
	ctx := context.Background()
	e, err := Setup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	e.N = 200
	sdk, err := e.DrainSDK(ctx)
	if err != nil {
		t.Fatal(err)
	}
	naive, err := e.DrainNaive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cycles, err := e.CycleThroughput(ctx, 200*time.Millisecond)
	if err != nil || cycles <= 0 {
		t.Fatalf("cycles %v: %v", cycles, err)
	}
	p50, p99, err := e.WakeupLatency(ctx, 20)
	if err != nil || p50 <= 0 || p99 < p50 {
		t.Fatalf("latency %v %v: %v", p50, p99, err)
	}
	t.Logf("sdk %v naive %v\n%s", sdk, naive, Summary(cycles, p50, p99))
}
