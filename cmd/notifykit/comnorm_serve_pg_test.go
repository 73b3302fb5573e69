package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/notifykit/notifykit/comnorm"
	"github.com/notifykit/notifykit/comnorm/comnormserver/pgstore"
	"github.com/notifykit/notifykit/internal/pgtest"
)

// TestComnormServePostgres runs two servers on one fresh database, the
// first selected with -postgres, the second with COMNORM_POSTGRES_URL:
// a message posted through one is peeked and deleted through the other,
// which is what the flag is for.
func TestComnormServePostgres(t *testing.T) {
	db := pgtest.New(t)
	dir := t.TempDir()
	keys := writeFile(t, dir, "keys", []byte("shop-receiver key-0123456789abcdef\n"))
	for _, env := range []string{"COMNORM_DATA_DIR", "COMNORM_MEMORY", pgstore.DSNEnv} {
		t.Setenv(env, "")
	}

	a := start(t, "comnorm", "serve", "-addr", "127.0.0.1:0", "-partner-keys", keys, "-postgres", db.URL, "-quiet")
	baseA := a.wait(t, a.stderr, `listening on (http://\S+/api)`, 20*time.Second)[1]
	t.Setenv(pgstore.DSNEnv, db.URL)
	b := start(t, "comnorm", "serve", "-addr", "127.0.0.1:0", "-partner-keys", keys, "-quiet")
	baseB := b.wait(t, b.stderr, `listening on (http://\S+/api)`, 20*time.Second)[1]

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	clientA, err := comnorm.NewClient("key-0123456789abcdef", comnorm.WithBaseURL(baseA))
	if err != nil {
		t.Fatal(err)
	}
	clientB, err := comnorm.NewClient("key-0123456789abcdef", comnorm.WithBaseURL(baseB))
	if err != nil {
		t.Fatal(err)
	}
	q, err := clientA.CreateQueue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(q.NotificationURL, strings.TrimSuffix(baseA, "/api")) {
		t.Fatalf("notification URL %q is not on server A (%s)", q.NotificationURL, baseA)
	}
	sender, err := comnorm.NewSender()
	if err != nil {
		t.Fatal(err)
	}
	if err := sender.Post(ctx, q.NotificationURL, q.NotificationSecret, map[string]int{"n": 7}); err != nil {
		t.Fatal(err)
	}
	msgs, err := clientB.Peek(ctx, q.ID, comnorm.PeekOptions{Count: 5})
	if err != nil || len(msgs) != 1 {
		t.Fatalf("peek on B: %v, %v", msgs, err)
	}
	var body struct{ N int }
	if err := msgs[0].Decode(&body); err != nil || body.N != 7 {
		t.Fatalf("content %s: %v", msgs[0].Content, err)
	}
	if err := clientB.DeleteMessage(ctx, q.ID, msgs[0].ID); err != nil {
		t.Fatal(err)
	}
	if msgs, err := clientA.Peek(ctx, q.ID, comnorm.PeekOptions{Count: 5}); err != nil || len(msgs) != 0 {
		t.Fatalf("peek on A after the delete on B: %v, %v", msgs, err)
	}
	for name, s := range map[string]*started{"A": a, "B": b} {
		if st := s.stop(t); st != 0 {
			t.Fatalf("server %s: exit %d: %s", name, st, s.stderr)
		}
	}
}
