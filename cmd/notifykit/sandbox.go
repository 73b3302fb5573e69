package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/notifykit/notifykit"
)

// sandboxSource runs one platform's stand-in, the real SDK client against
// it, and a traffic generator. run generates traffic until env.traffic
// ends, then waits (bounded by ctx) until every sent id settled, and
// shuts down. A source that cannot run returns an unavailableError.
type sandboxSource struct {
	name string
	run  func(ctx context.Context, env *sandboxEnv) error
}

// unavailableError says why a source could not run on this machine; the
// sandbox reports it and carries on with the other sources.
type unavailableError struct{ reason string }

func (u unavailableError) Error() string { return u.reason }

// sandboxEnv is what a source gets from the sandbox.
type sandboxEnv struct {
	stats   *sourceStats
	out     *eventPrinter
	log     *slog.Logger
	rate    float64         // events per second the generator aims for
	traffic context.Context // ends when the generator must stop
	// interrupted ends on Ctrl-C only (traffic also ends with --duration):
	// a source that runs past the traffic deadline to deliver a minimum
	// of events stops doing so when the user interrupts.
	interrupted context.Context
	tempDir     string
}

// handled records a handler call and prints its event.
func (env *sandboxEnv) handled(e notifykit.Event, err error) {
	env.stats.attempt(e.ID(), err)
	env.out.print(e, err)
}

// handledAs is handled for sources whose generator cannot know the id
// the platform will give an event (ComNorm assigns message ids on the
// server and answers a post with an empty body): the generator records its
// own key with stats.sent, and the handler reports under that key.
func (env *sandboxEnv) handledAs(key string, e notifykit.Event, err error) {
	env.stats.attempt(key, err)
	env.out.print(e, err)
}

// tick paces a traffic generator at env.rate; it returns false when the
// traffic phase is over.
func (env *sandboxEnv) tick(t *time.Ticker) bool {
	select {
	case <-env.traffic.Done():
		return false
	case <-t.C:
		return true
	}
}

// interval is the pause between generated events.
func (env *sandboxEnv) interval() time.Duration {
	return time.Duration(float64(time.Second) / env.rate)
}

// awaitSettled waits until every sent id was handled or dead-lettered, or
// ctx ends.
func (env *sandboxEnv) awaitSettled(ctx context.Context) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for !env.stats.settled() {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sandboxDrainTimeout bounds how long the sandbox waits, after the traffic
// stopped, for notifications still in flight.
const sandboxDrainTimeout = 15 * time.Second

func runSandbox(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("notifykit sandbox", flag.ContinueOnError)
	duration := fs.Duration("duration", 20*time.Second, "how long to generate traffic; 0 runs until Ctrl-C")
	rate := fs.Float64("rate", 5, "events per second generated for each platform")
	asJSON := fs.Bool("json", false, "print events as JSON lines (CloudEvents 1.0) instead of text")
	verbose := fs.Bool("v", false, "log the SDK's own messages to stderr")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: notifykit sandbox [flags]")
		fmt.Fprintln(fs.Output(), "\nStarts local stand-ins for KreditSmart (fake AWS IoT), banqUP (RabbitMQ), ComNorm (queue server)")
		fmt.Fprintln(fs.Output(), "and DSGO (provider), connects the real SDK clients, generates traffic and shows every event.")
		fmt.Fprintln(fs.Output(), "Exits 0 when every available platform delivered events and nothing was lost.")
		fmt.Fprintln(fs.Output(), "\nFlags:")
		fs.PrintDefaults()
	}
	if st := parseFlags(fs, args, stderr); st >= 0 {
		return st
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "notifykit sandbox: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *duration < 0 || *rate <= 0 || *rate > 10_000 {
		fmt.Fprintln(stderr, "notifykit sandbox: -duration must be >= 0 and -rate in (0, 10000]")
		return 2
	}
	logger := slog.New(slog.DiscardHandler)
	if *verbose {
		logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	ok := sandbox(ctx, sandboxSources(), sandboxConfig{
		duration: *duration, rate: *rate, json: *asJSON, log: logger,
	}, stdout, stderr)
	if !ok {
		return 1
	}
	return 0
}

type sandboxConfig struct {
	duration time.Duration
	rate     float64
	json     bool
	log      *slog.Logger
}

// sandbox runs the sources side by side and writes the summary; it reports
// whether the run succeeded.
func sandbox(ctx context.Context, sources []sandboxSource, cfg sandboxConfig, stdout, stderr io.Writer) bool {
	tempDir, err := os.MkdirTemp("", "notifykit-sandbox-")
	if err != nil {
		fmt.Fprintf(stderr, "notifykit sandbox: %v\n", err)
		return false
	}
	defer os.RemoveAll(tempDir)

	traffic, stopTraffic := context.WithCancel(ctx)
	if cfg.duration > 0 {
		traffic, stopTraffic = context.WithTimeout(ctx, cfg.duration)
	}
	defer stopTraffic()

	out := &eventPrinter{w: stdout, json: cfg.json}
	stats := make(map[string]*sourceStats)
	var order []string
	var wg sync.WaitGroup
	for _, src := range sources {
		s := newSourceStats(src.name)
		stats[src.name] = s
		order = append(order, src.name)
		env := &sandboxEnv{stats: s, out: out, log: cfg.log.With("source", src.name), rate: cfg.rate,
			traffic: traffic, interrupted: ctx, tempDir: tempDir}
		wg.Go(func() {
			// Sources drain on a context that outlives Ctrl-C by the drain
			// timeout, so an interrupted sandbox still settles what it sent.
			err := src.run(context.WithoutCancel(ctx), env)
			var u unavailableError
			switch {
			case errors.As(err, &u):
				s.unavailable = u.reason
				fmt.Fprintf(stderr, "%s: not available: %s\n", src.name, u.reason)
			case err != nil:
				fmt.Fprintf(stderr, "%s: %v\n", src.name, err)
				s.mu.Lock()
				s.failures++
				s.mu.Unlock()
			}
		})
	}
	stopProgress := progress(traffic, stderr, order, stats)
	wg.Wait()
	stopProgress()
	fmt.Fprintln(stdout)
	return writeSummary(stdout, order, stats)
}

// progress prints a status line to stderr every few seconds until stopped.
func progress(ctx context.Context, w io.Writer, order []string, stats map[string]*sourceStats) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	start := time.Now()
	wg.Go(func() {
		t := time.NewTicker(3 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				line := fmt.Sprintf("[%s]", time.Since(start).Round(time.Second))
				for _, n := range order {
					line += fmt.Sprintf(" %s=%d", n, stats[n].handledCount())
				}
				if ctx.Err() != nil {
					line += " (draining)"
				}
				fmt.Fprintln(w, line)
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// eventPrinter writes one line per handled event, safe for concurrent use.
type eventPrinter struct {
	mu   sync.Mutex
	w    io.Writer
	json bool
}

func (p *eventPrinter) print(e notifykit.Event, handlerErr error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		if handlerErr != nil {
			return // JSON lines carry delivered events only
		}
		b, err := notifykit.CloudEvent(e)
		if err != nil {
			fmt.Fprintf(p.w, `{"error":%q}`+"\n", err.Error())
			return
		}
		fmt.Fprintf(p.w, "%s\n", b)
		return
	}
	status := "ok"
	if handlerErr != nil {
		status = "FAILED: " + handlerErr.Error()
	}
	fmt.Fprintf(p.w, "%s  %-11s %-34s %-24s %s\n", time.Now().Format("15:04:05.000"), e.Source(), e.Type(), e.Subject(), status)
}
