package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/notifykit/notifykit/comnorm"
	"github.com/notifykit/notifykit/dsgo/dsgotest"
)

func TestComnormServeStartsServesAndStops(t *testing.T) {
	dir := t.TempDir()
	keys := writeFile(t, dir, "keys", []byte("# partners\nshop-receiver key-0123456789abcdef\n"))
	data := filepath.Join(dir, "data")
	s := start(t, "comnorm", "serve", "-addr", "127.0.0.1:0", "-partner-keys", keys, "-data-dir", data)
	base := s.wait(t, s.stderr, `listening on (http://\S+/api)`, 10*time.Second)[1]

	ctx := context.Background()
	client, err := comnorm.NewClient("key-0123456789abcdef", comnorm.WithBaseURL(base))
	if err != nil {
		t.Fatal(err)
	}
	q, err := client.CreateQueue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sender, _ := comnorm.NewSender()
	if err := sender.Post(ctx, q.NotificationURL, q.NotificationSecret, map[string]int{"n": 1}); err != nil {
		t.Fatal(err)
	}
	msgs, err := client.Peek(ctx, q.ID, comnorm.PeekOptions{Count: 5})
	if err != nil || len(msgs) != 1 {
		t.Fatalf("peek: %v, %v", msgs, err)
	}
	// A long poll in progress must not hold up the shutdown.
	empty, err := client.CreateQueue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	polled := make(chan error, 1)
	go func() {
		_, err := client.Peek(ctx, empty.ID, comnorm.PeekOptions{Timeout: 20 * time.Second})
		polled <- err
	}()
	time.Sleep(300 * time.Millisecond) // let the poll reach the server
	began := time.Now()
	if st := s.stop(t); st != 0 {
		t.Fatalf("exit %d: %s", st, s.stderr)
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Fatalf("shutdown took %s", d)
	}
	select {
	case <-polled: // 503 from the shutdown, or a transport error after it
	case <-time.After(5 * time.Second):
		t.Fatal("the long poll was not ended by the shutdown")
	}
	if _, err := os.Stat(filepath.Join(data, "comnorm.db")); err != nil {
		t.Fatalf("durable store: %v", err)
	}
	if strings.Contains(s.stderr.String(), "key-0123456789abcdef") {
		t.Fatal("the access log shows a partner key")
	}

	// The data survives a restart on the same directory.
	s2 := start(t, "comnorm", "serve", "-addr", "127.0.0.1:0", "-partner-keys", keys, "-data-dir", data, "-quiet")
	base2 := s2.wait(t, s2.stderr, `listening on (http://\S+/api)`, 10*time.Second)[1]
	client2, _ := comnorm.NewClient("key-0123456789abcdef", comnorm.WithBaseURL(base2))
	if msgs, err := client2.Peek(ctx, q.ID, comnorm.PeekOptions{Count: 5}); err != nil || len(msgs) != 1 {
		t.Fatalf("after restart: %v, %v", msgs, err)
	}
	if st := s2.stop(t); st != 0 {
		t.Fatalf("exit %d: %s", st, s2.stderr)
	}
}

func TestDSGOSubscriptionsLifecycle(t *testing.T) {
	p := dsgotest.NewProvider(t)
	const consumerID = "EU.EORI.NL000000077"
	keyFile, chainFile, err := dsgotest.WriteCredentials(t.TempDir(), "consumer", p.Consumer(t, consumerID))
	if err != nil {
		t.Fatal(err)
	}
	hits := make(chan struct{}, 10)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits <- struct{}{}
	}))
	defer hook.Close()
	t.Setenv("DSGO_BASE_URL", p.URL)
	t.Setenv("DSGO_CLIENT_ID", consumerID)
	t.Setenv("DSGO_KEY_FILE", keyFile)
	t.Setenv("DSGO_CHAIN_FILE", chainFile)
	t.Setenv("DSGO_SERVER_ID", p.ID)
	cli := func(args ...string) string {
		t.Helper()
		var out, errOut syncBuffer
		if st := run(context.Background(), append([]string{"dsgo", "subscriptions"}, args...), &out, &errOut); st != 0 {
			t.Fatalf("%v: exit %d: %s", args, st, errOut.String())
		}
		return out.String()
	}

	created := cli("create", "-event-types", "Modified, Deleted", "-webhook-url", hook.URL+"/dsgo", "-description", "cli test", "-end", "720h")
	id := strings.Fields(created)[0]
	if !strings.Contains(created, "active\tModified,Deleted\t"+hook.URL+"/dsgo") {
		t.Fatalf("create printed %q", created)
	}
	if list := cli("list"); !strings.Contains(list, id) || !strings.Contains(list, "active") {
		t.Fatalf("list:\n%s", list)
	}
	if out := cli("test", id); !strings.Contains(out, "test notification queued") {
		t.Fatalf("test printed %q", out)
	}
	select {
	case <-hits:
	case <-time.After(10 * time.Second):
		t.Fatal("the test notification did not reach the webhook")
	}
	if out := cli("delete", id); out != id+" deleted\n" {
		t.Fatalf("delete printed %q", out)
	}
	if list := cli("list", "-json"); !strings.Contains(list, `"inactive"`) {
		t.Fatalf("list -json after delete:\n%s", list)
	}
	// Deleting again is a failure of the work (exit 1), not of the usage.
	var errOut syncBuffer
	if st := run(context.Background(), []string{"dsgo", "subscriptions", "delete", id}, &syncBuffer{}, &errOut); st != 1 {
		t.Fatalf("second delete: exit %d (%s)", st, errOut.String())
	}
}
