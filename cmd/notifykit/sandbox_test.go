package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// tickEvent is the event of the framework tests' in-test source.
type tickEvent struct{ id string }

func (e tickEvent) ID() string      { return e.id }
func (e tickEvent) Source() string  { return "tick" }
func (e tickEvent) Type() string    { return "tick.tock" }
func (e tickEvent) Subject() string { return e.id }
func (e tickEvent) Time() time.Time { return time.Time{} }

// tickSource exercises the sandbox framework without a platform: it "sends"
// ids and hands every other one to the handler, or drops some to prove the
// summary notices.
func tickSource(name string, drop int) sandboxSource {
	return sandboxSource{name: name, run: func(ctx context.Context, env *sandboxEnv) error {
		t := time.NewTicker(env.interval())
		defer t.Stop()
		for i := 0; env.tick(t); i++ {
			id := fmt.Sprintf("%s-%d", name, i)
			env.stats.sent(id)
			if i < drop {
				continue
			}
			if i%5 == 0 {
				env.handled(tickEvent{id}, errors.New("handler failed"))
			}
			env.handled(tickEvent{id}, nil)
		}
		drainCtx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		env.awaitSettled(drainCtx)
		return nil
	}}
}

func TestSandboxSummaryCountsAndSucceeds(t *testing.T) {
	var out, errOut bytes.Buffer
	ok := sandbox(context.Background(), []sandboxSource{
		tickSource("alpha", 0),
		{name: "beta", run: func(context.Context, *sandboxEnv) error {
			return unavailableError{"install beta-server"}
		}},
	}, sandboxConfig{duration: 300 * time.Millisecond, rate: 100, log: discardLogger()}, &out, &errOut)
	if !ok {
		t.Fatalf("sandbox failed:\n%s\n%s", out.String(), errOut.String())
	}
	last := lastLine(out.String())
	if !strings.HasPrefix(last, "SANDBOX alpha=") || !strings.HasSuffix(last, " beta=unavailable lost=0") {
		t.Fatalf("last line = %q", last)
	}
	if !strings.Contains(out.String(), "beta not available: install beta-server") {
		t.Fatalf("unavailable reason missing:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "FAILED: handler failed") {
		t.Fatal("failed handler calls are not shown")
	}
}

func TestSandboxReportsLoss(t *testing.T) {
	var out bytes.Buffer
	ok := sandbox(context.Background(), []sandboxSource{tickSource("alpha", 3)},
		sandboxConfig{duration: 200 * time.Millisecond, rate: 100, log: discardLogger()}, &out, &bytes.Buffer{})
	if ok {
		t.Fatal("sandbox succeeded although ids were lost")
	}
	if last := lastLine(out.String()); !strings.HasSuffix(last, " lost=3") {
		t.Fatalf("last line = %q, want lost=3", last)
	}
}

func TestSandboxJSONLinesAreCloudEvents(t *testing.T) {
	var out bytes.Buffer
	sandbox(context.Background(), []sandboxSource{tickSource("alpha", 0)},
		sandboxConfig{duration: 100 * time.Millisecond, rate: 50, json: true, log: discardLogger()}, &out, &bytes.Buffer{})
	first := strings.SplitN(out.String(), "\n", 2)[0]
	if !strings.HasPrefix(first, `{"specversion":"1.0","id":"alpha-`) {
		t.Fatalf("first line = %q", first)
	}
}

func TestSandboxFlagValidation(t *testing.T) {
	for _, args := range [][]string{{"-rate", "0"}, {"-duration", "-1s"}, {"-bogus"}, {"extra"}} {
		var errOut bytes.Buffer
		if st := run(context.Background(), append([]string{"sandbox"}, args...), &bytes.Buffer{}, &errOut); st != 2 {
			t.Errorf("sandbox %v: exit %d, want 2 (stderr: %s)", args, st, errOut.String())
		}
	}
}

func TestHelpListsEveryCommand(t *testing.T) {
	var out bytes.Buffer
	if st := run(context.Background(), []string{"--help"}, &out, &bytes.Buffer{}); st != 0 {
		t.Fatalf("exit %d", st)
	}
	for _, c := range commands() {
		if !strings.Contains(out.String(), "  "+c.name+" ") {
			t.Errorf("--help does not list %s:\n%s", c.name, out.String())
		}
	}
	if st := run(context.Background(), []string{"frobnicate"}, &bytes.Buffer{}, &bytes.Buffer{}); st != 2 {
		t.Fatalf("unknown command: exit %d, want 2", st)
	}
	if st := run(context.Background(), nil, &bytes.Buffer{}, &bytes.Buffer{}); st != 2 {
		t.Fatalf("no command: exit %d, want 2", st)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}
