package brokertest

import (
	"bytes"
	"os"
	"testing"
	"time"
)

// livePIDs returns the running (non-zombie) processes whose command line or
// environment contains s.
func livePIDs(t *testing.T, s string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc to inspect processes")
	}
	var out []string
	for _, e := range entries {
		cmd, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		env, _ := os.ReadFile("/proc/" + e.Name() + "/environ")
		if !bytes.Contains(cmd, []byte(s)) && !bytes.Contains(env, []byte(s)) {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		if f := bytes.Fields(stat[bytes.LastIndexByte(stat, ')')+1:]); len(f) > 0 && string(f[0]) != "Z" {
			out = append(out, e.Name())
		}
	}
	return out
}

// waitGone waits until no live process mentions s.
func waitGone(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids := livePIDs(t, s)
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes %v mentioning %q still alive", pids, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func local(t *testing.T, b *Broker) *localBroker {
	t.Helper()
	l, ok := b.b.(*localBroker)
	if !ok {
		t.Skipf("broker %s is not a local process (%T)", b.URL, b.b)
	}
	return l
}

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}
