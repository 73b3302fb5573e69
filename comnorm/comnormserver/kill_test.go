package comnormserver_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/notifykit/notifykit/comnorm/comnormserver"
)

// buildServer compiles the comnormd helper once per test binary (without
// -race: it is the system under test, not the test).
var buildServer = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "comnormd")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "comnormd")
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", err
	}
	cmd := exec.Command(goTool, "build", "-o", bin, "github.com/notifykit/notifykit/comnorm/comnormserver/internal/cmd/comnormd")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

type proc struct {
	cmd  *exec.Cmd
	addr string
}

// startServer runs comnormd on addr ("127.0.0.1:0" for any port) and waits
// until it listens.
func startServer(t *testing.T, addr, keys, data string) *proc {
	t.Helper()
	bin, err := buildServer()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-addr", addr, "-partner-keys", keys, "-data-dir", data)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
	}()
	select {
	case l, ok := <-line:
		if !ok || !strings.HasPrefix(l, "listening ") {
			t.Fatalf("server did not start: %q", l)
		}
		return &proc{cmd: cmd, addr: strings.TrimPrefix(l, "listening ")}
	case <-time.After(20 * time.Second):
		t.Fatal("server start timed out")
	}
	return nil
}

// TestSIGKILLDuringPostsLosesNothingAcknowledged kills the server with
// SIGKILL while 10,000 posts are under way, restarts it on the same data
// and checks that every post that got a 200 is in the queue.
func TestSIGKILLDuringPostsLosesNothingAcknowledged(t *testing.T) {
	const total, workers, killAt = 10000, 16, 3000
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	if err := writeFile(keys, "alice "+keyAlice+"\n"); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	p := startServer(t, "127.0.0.1:0", keys, data)
	e := &env{t: t, url: "http://" + p.addr}
	q := e.create(keyAlice)

	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}, Timeout: 10 * time.Second}
	var acked [total]atomic.Bool
	var nAcked, failures atomic.Int32
	post := func(i int) bool {
		req, _ := http.NewRequest("POST", q.NotificationURL, strings.NewReader(fmt.Sprintf(`{"n":%d}`, i)))
		req.Header.Set("X-COMNORM-NOTIFICATION-SECRET", q.NotificationSecret)
		resp, err := hc.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}
	t0 := time.Now()
	next := make(chan int)
	go func() {
		for i := range total {
			next <- i
		}
		close(next)
	}()
	killed := make(chan int32, 1)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				deadline := time.Now().Add(60 * time.Second)
				for !post(i) {
					failures.Add(1)
					if time.Now().After(deadline) {
						t.Errorf("post %d never succeeded", i)
						return
					}
					time.Sleep(20 * time.Millisecond)
				}
				acked[i].Store(true)
				if nAcked.Add(1) == killAt {
					// Kill while the other workers' posts are in flight.
					_ = p.cmd.Process.Signal(syscall.SIGKILL)
					killed <- nAcked.Load()
				}
			}
		})
	}
	<-killed
	_ = p.cmd.Wait()
	p = startServer(t, p.addr, keys, data)
	wg.Wait()
	t.Logf("posts done after %v", time.Since(t0))
	if failures.Load() == 0 {
		t.Fatal("no post failed: the kill did not interrupt anything")
	}

	// Stop the server and read what is on disk.
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
	store, err := comnormserver.OpenBoltStore(filepath.Join(data, "comnorm.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	msgs, err := store.Peek(context.Background(), q.QueueID, 2*total)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]int{}
	for _, m := range msgs {
		var v struct{ N int }
		if err := json.Unmarshal(m.Body, &v); err != nil {
			t.Fatal(err)
		}
		seen[v.N]++
	}
	t.Logf("check done after %v", time.Since(t0))
	missing, dups := 0, 0
	for i := range total {
		if acked[i].Load() && seen[i] == 0 {
			missing++
		}
		if seen[i] > 1 {
			dups += seen[i] - 1
		}
	}
	t.Logf("%d posts failed around the kill; %d duplicates from retried posts", failures.Load(), dups)
	if missing > 0 {
		t.Fatalf("%d acknowledged posts lost", missing)
	}
	if len(seen) != total {
		t.Fatalf("%d unique messages, want %d", len(seen), total)
	}
	if dups > workers {
		t.Fatalf("%d duplicates, more than the %d posts that can be in flight", dups, workers)
	}
}
