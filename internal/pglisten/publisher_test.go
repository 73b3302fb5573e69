package pglisten

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/notifykit/notifykit/internal/pgtest"
)

func publisher(t *testing.T, cfg *pgx.ConnConfig, onError func(error)) *Publisher {
	t.Helper()
	p := NewPublisher(cfg, "nk_test", nil, onError)
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// Keys published in a burst (batched into few transactions) each wake
// their subscribers on a listener elsewhere, and nothing else.
func TestPublishedKeysWakeTheirSubscribers(t *testing.T) {
	_, cfg := setup(t, pgtest.New(t).URL)
	l := start(t, cfg, nil)
	const n = 50
	chans := make([]<-chan struct{}, n)
	for i := range chans {
		ch, unsub := l.Subscribe(fmt.Sprint("k", i))
		t.Cleanup(unsub)
		chans[i] = ch
	}
	other, unsub := l.Subscribe("other")
	defer unsub()
	p := publisher(t, cfg, nil)
	for i := range n {
		p.Publish(fmt.Sprint("k", i))
	}
	for i, ch := range chans {
		if !woken(ch, 5*time.Second) {
			t.Fatalf("k%d not woken", i)
		}
	}
	if woken(other, 200*time.Millisecond) {
		t.Error("a key nobody published was woken")
	}
	if p.PID() == 0 {
		t.Error("PID is 0 with a live connection")
	}
}

// A key published while the database is down is delivered once it is
// back, and the failed attempt is reported.
func TestPublisherRetriesAfterDatabaseCrash(t *testing.T) {
	ctx := context.Background()
	srv := pgtest.NewServer(t)
	cfg, err := pgx.ParseConfig(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	var errs atomic.Int32
	p := publisher(t, cfg, func(error) { errs.Add(1) })
	p.Publish("warm-up") // connects
	deadline := time.Now().Add(5 * time.Second)
	for p.PID() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	p.Publish("q")
	for errs.Load() == 0 && time.Now().Before(deadline.Add(5*time.Second)) {
		time.Sleep(10 * time.Millisecond)
	}
	if errs.Load() == 0 {
		t.Fatal("failed publish not reported to OnError")
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	l := start(t, cfg, nil)
	ch, unsub := l.Subscribe("q")
	defer unsub()
	drain(ch)
	p.Publish("q") // in case the retry landed before the listener listened
	if !woken(ch, 10*time.Second) {
		t.Fatal("no notification after the database came back")
	}
}
