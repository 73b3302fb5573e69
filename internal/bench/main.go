package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, scenarios)
	stop()
	os.Exit(code)
}

// run is the whole command, separate from main so tests can drive it. It
// returns the exit code: 0 on success, 1 when a scenario fails, 2 on bad
// usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, reg *registry) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	runs := fs.Int("runs", 3, "runs of each side, alternating SDK and baseline")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./internal/bench [-runs N] <scenario>")
		fs.PrintDefaults()
		fmt.Fprintln(stderr, "scenarios:")
		for _, s := range reg.list() {
			fmt.Fprintf(stderr, "  %-24s %s\n", s.name, s.description)
		}
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 || *runs < 1 {
		fs.Usage()
		return 2
	}
	s, ok := reg.get(fs.Arg(0))
	if !ok {
		fmt.Fprintf(stderr, "bench: unknown scenario %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	ratio, err := measure(ctx, s, *runs, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "bench: %s: %v\n", s.name, err)
		return 1
	}
	fmt.Fprintf(stdout, "RATIO %s %.2f\n", s.name, ratio)
	return 0
}

// measure sets the scenario up, alternates the sides and returns the ratio
// of their median rates.
func measure(ctx context.Context, s *scenario, runs int, out io.Writer) (ratio float64, err error) {
	fmt.Fprintf(out, "%s: %s (%d runs each, alternating)\n", s.name, s.description, runs)
	sdk, base, cleanup, err := s.setup(ctx)
	if err != nil {
		return 0, fmt.Errorf("setup: %w", err)
	}
	if cleanup != nil {
		defer cleanup()
	}
	var sdkRates, baseRates []float64
	for i := 1; i <= runs; i++ {
		for _, sd := range []struct {
			name  string
			f     side
			rates *[]float64
		}{{"sdk", sdk, &sdkRates}, {"baseline", base, &baseRates}} {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
			r, rss, err := once(ctx, sd.f)
			if err != nil {
				return 0, fmt.Errorf("%s run %d: %w", sd.name, i, err)
			}
			rate := r.Rate()
			if rate <= 0 {
				return 0, fmt.Errorf("%s run %d: no work measured (count %d in %v)", sd.name, i, r.Count, r.Duration)
			}
			*sd.rates = append(*sd.rates, rate)
			fmt.Fprintf(out, "%-8s run %d/%d: %d in %v = %s%s\n", sd.name, i, runs, r.Count, r.Duration.Round(time.Microsecond), humanRate(rate), rss)
			for _, n := range r.Notes {
				fmt.Fprintf(out, "    %s\n", n)
			}
		}
	}
	sdkMed, baseMed := median(sdkRates), median(baseRates)
	fmt.Fprintf(out, "median: sdk %s, baseline %s\n", humanRate(sdkMed), humanRate(baseMed))
	return sdkMed / baseMed, nil
}

// once runs one side with a fresh heap and peak-RSS mark, timing it when
// the side does not report its own duration. rss describes the run's peak
// RSS, or is empty where the platform cannot tell.
func once(ctx context.Context, f side) (r Result, rss string, err error) {
	runtime.GC() // the previous run's garbage must not be billed to this one
	rssOK := ResetPeakRSS() == nil
	start := time.Now()
	r, err = f(ctx)
	elapsed := time.Since(start)
	if err != nil {
		return r, "", err
	}
	if r.Duration == 0 {
		r.Duration = elapsed
	}
	if peak, perr := PeakRSS(); rssOK && perr == nil {
		rss = fmt.Sprintf("  (peak RSS %.1f MiB)", float64(peak)/(1<<20))
	}
	return r, rss, nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func humanRate(r float64) string {
	switch {
	case r >= 1e6:
		return fmt.Sprintf("%.2fM/s", r/1e6)
	case r >= 1e3:
		return fmt.Sprintf("%.2fk/s", r/1e3)
	default:
		return fmt.Sprintf("%.1f/s", r)
	}
}
