package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

var ratioLine = regexp.MustCompile(`^RATIO selfcheck [0-9]+\.[0-9]{2}$`)

// The acceptance check: go run ./internal/bench selfcheck ends with a RATIO
// line.
func TestSelfcheckPrintsRatio(t *testing.T) {
	defer func(n int) { selfcheckEvents = n }(selfcheckEvents)
	selfcheckEvents = 200_000
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-runs", "2", "selfcheck"}, &out, &errOut, scenarios); code != 0 {
		t.Fatalf("exit %d, stderr: %s", code, errOut.String())
	}
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	if last := lines[len(lines)-1]; !ratioLine.MatchString(last) {
		t.Fatalf("last line %q is not a RATIO line; output:\n%s", last, out.String())
	}
	if n := strings.Count(out.String(), "RATIO"); n != 1 {
		t.Fatalf("%d RATIO lines, want exactly one:\n%s", n, out.String())
	}
	if n := strings.Count(out.String(), "sdk      run"); n != 2 {
		t.Errorf("%d SDK runs reported, want 2:\n%s", n, out.String())
	}
}

// fake is a scenario whose sides report preset durations, so rates and the
// ratio are known exactly.
type fake struct {
	calls    []string
	setups   int
	cleanups int
	sdkDur   []time.Duration
	baseDur  []time.Duration
	sdkErr   error
	setupErr error
}

func (f *fake) register(reg *registry, name string) {
	add(reg, Scenario[*fake]{
		Name:        name,
		Description: "fake",
		Setup: func(context.Context) (*fake, func(), error) {
			f.setups++
			if f.setupErr != nil {
				return nil, nil, f.setupErr
			}
			return f, func() { f.cleanups++ }, nil
		},
		SDK: func(_ context.Context, f *fake) (Result, error) {
			f.calls = append(f.calls, "sdk")
			if f.sdkErr != nil {
				return Result{}, f.sdkErr
			}
			d := f.sdkDur[0]
			f.sdkDur = f.sdkDur[1:]
			return Result{Count: 1000, Duration: d, Notes: []string{"note from sdk"}}, nil
		},
		Baseline: func(_ context.Context, f *fake) (Result, error) {
			f.calls = append(f.calls, "baseline")
			d := f.baseDur[0]
			f.baseDur = f.baseDur[1:]
			return Result{Count: 1000, Duration: d}, nil
		},
	})
}

func TestAlternatesAndUsesMedians(t *testing.T) {
	f := &fake{
		// SDK rates 10k, 30k, 20k/s: median 20k. Baseline 10k, 10k, 40k/s:
		// median 10k, whereas the mean (20k) would give 1.00.
		sdkDur:  []time.Duration{100 * time.Millisecond, 33333333 * time.Nanosecond, 50 * time.Millisecond},
		baseDur: []time.Duration{100 * time.Millisecond, 100 * time.Millisecond, 25 * time.Millisecond},
	}
	reg := &registry{}
	f.register(reg, "fake")
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-runs", "3", "fake"}, &out, &errOut, reg); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if got := strings.Join(f.calls, ","); got != "sdk,baseline,sdk,baseline,sdk,baseline" {
		t.Errorf("call order %s", got)
	}
	if f.setups != 1 || f.cleanups != 1 {
		t.Errorf("setup ran %d times, cleanup %d times; want once each", f.setups, f.cleanups)
	}
	if !strings.HasSuffix(out.String(), "RATIO fake 2.00\n") {
		t.Errorf("output does not end with RATIO fake 2.00:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "    note from sdk\n") {
		t.Errorf("notes not printed:\n%s", out.String())
	}
}

func TestFailures(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name     string
		args     []string
		fake     *fake
		wantCode int
		wantErr  string
	}{
		{"no scenario", nil, &fake{}, 2, "usage"},
		{"unknown scenario", []string{"nope"}, &fake{}, 2, `unknown scenario "nope"`},
		{"zero runs", []string{"-runs", "0", "fake"}, &fake{}, 2, "usage"},
		{"bad flag", []string{"-bogus", "fake"}, &fake{}, 2, "bogus"},
		{"setup fails", []string{"fake"}, &fake{setupErr: boom}, 1, "setup: boom"},
		{"side fails", []string{"fake"}, &fake{sdkErr: boom}, 1, "sdk run 1: boom"},
		{"no work measured", []string{"fake"}, &fake{sdkDur: []time.Duration{-1}}, 1, "no work measured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := &registry{}
			tt.fake.register(reg, "fake")
			var out, errOut bytes.Buffer
			code := run(context.Background(), tt.args, &out, &errOut, reg)
			if code != tt.wantCode || !strings.Contains(errOut.String(), tt.wantErr) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errOut.String(), tt.wantCode, tt.wantErr)
			}
			if strings.Contains(out.String(), "RATIO") {
				t.Errorf("a failed run printed a RATIO line:\n%s", out.String())
			}
			if tt.fake.setups > 0 && tt.fake.setupErr == nil && tt.fake.cleanups != 1 {
				t.Errorf("cleanup ran %d times after a failure", tt.fake.cleanups)
			}
		})
	}
}

func TestUsageListsScenarios(t *testing.T) {
	var out, errOut bytes.Buffer
	run(context.Background(), nil, &out, &errOut, scenarios)
	if !strings.Contains(errOut.String(), "selfcheck") {
		t.Errorf("usage does not list selfcheck:\n%s", errOut.String())
	}
}

func TestRegisterRejects(t *testing.T) {
	ok := func(context.Context, struct{}) (Result, error) { return Result{}, nil }
	cases := map[string]Scenario[struct{}]{
		"bad name":     {Name: "Bad Name", SDK: ok, Baseline: ok},
		"missing side": {Name: "half", SDK: ok},
		"duplicate":    {Name: "twice", SDK: ok, Baseline: ok},
	}
	for name, s := range cases {
		t.Run(name, func(t *testing.T) {
			reg := &registry{}
			add(reg, Scenario[struct{}]{Name: "twice", SDK: ok, Baseline: ok})
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			add(reg, s)
		})
	}
}

func TestPeakRSS(t *testing.T) {
	if err := ResetPeakRSS(); err != nil {
		t.Skipf("peak RSS cannot be reset here: %v", err)
	}
	before, err := PeakRSS()
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<20)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1 // touch every page so it becomes resident
	}
	after, err := PeakRSS()
	if err != nil {
		t.Fatal(err)
	}
	if after-before < 60<<20 {
		t.Fatalf("peak RSS grew by %d bytes after touching 64 MiB", after-before)
	}
	_ = buf[len(buf)-1]
}

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		in   []float64
		want float64
	}{{[]float64{3}, 3}, {[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// A scenario registers itself; the runner alternates its sides and ends
// with the ratio of their median rates.
func Example() {
	reg := &registry{}
	add(reg, Scenario[struct{}]{
		Name:        "example",
		Description: "the SDK does 3,000 units a second, the baseline 2,000",
		SDK: func(context.Context, struct{}) (Result, error) {
			return Result{Count: 300, Duration: 100 * time.Millisecond}, nil
		},
		Baseline: func(context.Context, struct{}) (Result, error) {
			return Result{Count: 200, Duration: 100 * time.Millisecond}, nil
		},
	})
	var out bytes.Buffer
	run(context.Background(), []string{"-runs", "1", "example"}, &out, &out, reg)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	fmt.Println(lines[len(lines)-1])
	// Output: RATIO example 1.50
}
