package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/notifykit/notifykit/internal/brokertest"
)

// TestSandboxEndToEnd runs the README's first command with a short
// duration: every platform must deliver events and lose nothing.
func TestSandboxEndToEnd(t *testing.T) {
	banqupExpected := rabbitMQExpected()
	if banqupExpected {
		// The sandbox would start a node of its own; the test binary's
		// shared node is already there for the listen test, and brokertest
		// turns a missing broker into a failure under
		// NOTIFYKIT_REQUIRE_BROKERS=1.
		t.Setenv(brokertest.EnvAMQPURL, brokertest.RabbitMQ(t).URL)
	}
	var out, errOut bytes.Buffer
	start := time.Now()
	st := run(context.Background(), []string{"sandbox", "--duration", "5s"}, &out, &errOut)
	t.Logf("sandbox took %s", time.Since(start).Round(time.Millisecond))
	if st != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", st, out.String(), errOut.String())
	}
	last := lastLine(out.String())
	m := regexp.MustCompile(`^SANDBOX kreditsmart=(\d+) banqup=(\d+|unavailable) comnorm=(\d+) dsgo=(\d+) lost=0$`).FindStringSubmatch(last)
	if m == nil {
		t.Fatalf("last line = %q", last)
	}
	for i, name := range []string{"kreditsmart", "banqup", "comnorm", "dsgo"} {
		v := m[i+1]
		if name == "banqup" && !banqupExpected {
			if v != "unavailable" {
				t.Errorf("banqup=%s without a RabbitMQ", v)
			}
			continue
		}
		if n, err := strconv.Atoi(v); err != nil || n <= 0 {
			t.Errorf("%s=%s, want > 0\n%s", name, v, out.String())
		}
	}
	for _, want := range []string{
		"kreditsmart.topic.changed", // the partner-tree move
		"comnorm.message.received",
		"dsgo.event.",
	} {
		if !bytes.Contains(out.Bytes(), []byte(want)) {
			t.Errorf("no %s line in the output", want)
		}
	}
	if banqupExpected {
		for _, want := range []string{"banqup.account.created", "banqup.transaction.created", "banqup.session.finished", "banqup.consent.", "to the error queue"} {
			if !bytes.Contains(out.Bytes(), []byte(want)) {
				t.Errorf("no %q in the banqUP output", want)
			}
		}
		// The summary's error-queue column for banqup shows the one
		// consent the handler rejected for good.
		if !regexp.MustCompile(`(?m)^\s+banqup\s+\d+\s+\d+\s+\d+\s+1\s+0\s`).Match(out.Bytes()) {
			t.Errorf("banqup summary row does not show one error-queue message:\n%s", out.String())
		}
	}
}

// TestSandboxInterrupted runs the sandbox until "Ctrl-C" (duration 0): the
// sources stop generating, settle what they sent and report.
func TestSandboxInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// "Ctrl-C" once every source handled something: a fixed delay would
	// race with the stand-ins' start-up (RSA keys for DSGO) on a busy
	// machine.
	var delivered sync.WaitGroup
	var sources []sandboxSource
	for _, src := range []sandboxSource{kreditsmartSource(), comnormSource(), dsgoSource()} {
		delivered.Add(1)
		sources = append(sources, sandboxSource{name: src.name, run: func(ctx context.Context, env *sandboxEnv) error {
			go func() {
				defer delivered.Done()
				for env.stats.handledCount() == 0 && env.traffic.Err() == nil {
					time.Sleep(10 * time.Millisecond)
				}
			}()
			return src.run(ctx, env)
		}})
	}
	go func() {
		delivered.Wait()
		cancel()
	}()
	time.AfterFunc(30*time.Second, cancel) // bound the test if a source never delivers
	var out, errOut bytes.Buffer
	ok := sandbox(ctx, sources, sandboxConfig{duration: 0, rate: 20, log: discardLogger()}, &out, &errOut)
	if !ok {
		t.Fatalf("interrupted sandbox failed:\n%s\n%s", out.String(), errOut.String())
	}
	if !regexp.MustCompile(`^SANDBOX kreditsmart=[1-9]\d* comnorm=[1-9]\d* dsgo=[1-9]\d* lost=0$`).MatchString(lastLine(out.String())) {
		t.Fatalf("last line = %q", lastLine(out.String()))
	}
}
