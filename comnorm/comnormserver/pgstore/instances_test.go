package pgstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notifykit/notifykit/comnorm"
	"github.com/notifykit/notifykit/comnorm/comnormserver"
	"github.com/notifykit/notifykit/internal/pgtest"
)

const partnerKey = "pgstore-test-partner-key-0001"

// instance starts one comnorm server process-equivalent on dsn: its own
// Store (pool + LISTEN connection) behind its own HTTP server. The server's
// recheck interval is a minute, so a long poll that returns quickly was
// woken by a notification, not by polling. It returns the base URL
// (".../api").
func instance(t *testing.T, dsn string) string {
	t.Helper()
	keys, err := comnormserver.NewStaticKeys(map[string]string{"partner": partnerKey})
	if err != nil {
		t.Fatal(err)
	}
	store := open(t, dsn)
	h, err := comnormserver.New(store, keys, comnormserver.WithRecheckInterval(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(h)
	t.Cleanup(func() { h.Close(); hs.Close() })
	return hs.URL + "/api"
}

// loadBalancer spreads requests round-robin over the instances and keeps
// the Host header, as a real one does, so notification URLs point at it.
func loadBalancer(t *testing.T, bases ...string) string {
	t.Helper()
	var next atomic.Uint64
	targets := make([]*url.URL, len(bases))
	for i, b := range bases {
		u, err := url.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		u.Path = ""
		targets[i] = u
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(targets[next.Add(1)%uint64(len(targets))])
			r.Out.Host = r.In.Host
		},
		FlushInterval: -1,
	}
	lb := httptest.NewServer(rp)
	t.Cleanup(lb.Close)
	return lb.URL + "/api"
}

func client(t *testing.T, base string) *comnorm.Client {
	t.Helper()
	c, err := comnorm.NewClient(partnerKey, comnorm.WithBaseURL(base))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sender(t *testing.T) *comnorm.Sender {
	t.Helper()
	s, err := comnorm.NewSender()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A long poll on instance A returns as soon as a message is posted through
// instance B.
func TestLongPollOnOneInstanceWakesOnPostThroughAnother(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.New(t).URL
	a, b := instance(t, dsn), instance(t, dsn)
	q, err := client(t, a).CreateQueue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	viaB := b + "/queues/" + q.ID + "/messages"
	go func() {
		time.Sleep(300 * time.Millisecond)
		if err := sender(t).Post(ctx, viaB, q.NotificationSecret, map[string]string{"hello": "b"}); err != nil {
			t.Error(err)
		}
	}()
	start := time.Now()
	msgs, err := client(t, a).Peek(ctx, q.ID, comnorm.PeekOptions{Timeout: 15 * time.Second, Count: 10})
	if err != nil || len(msgs) != 1 || string(msgs[0].Content) != `{"hello":"b"}` {
		t.Fatalf("peek = %+v, %v", msgs, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("long poll on A returned after %v: not woken by B's post", d)
	}
}

type ledger struct {
	mu   sync.Mutex
	seen map[string]int
	all  chan struct{}
	want int
}

func newLedger(want int) *ledger {
	return &ledger{seen: map[string]int{}, all: make(chan struct{}), want: want}
}

func (l *ledger) handle(_ context.Context, e *comnorm.Event) error {
	var body struct{ K string }
	if err := json.Unmarshal(e.Message.Content, &body); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen[body.K]++
	if len(l.seen) == l.want && l.want > 0 {
		close(l.all)
		l.want = 0
	}
	return nil
}

func (l *ledger) check(t *testing.T, keys []string, allowDuplicates bool) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	dups := 0
	for _, k := range keys {
		switch n := l.seen[k]; {
		case n == 0:
			t.Errorf("%s never delivered", k)
		case n > 1:
			dups++
			if !allowDuplicates {
				t.Errorf("%s delivered %d times", k, n)
			}
		}
	}
	if len(l.seen) != len(keys) {
		t.Errorf("%d distinct messages delivered, want %d", len(l.seen), len(keys))
	}
	if dups > 0 {
		t.Logf("%d messages delivered more than once", dups)
	}
}

func consume(ctx context.Context, t *testing.T, wg *sync.WaitGroup, base, queueID string, l *ledger) {
	t.Helper()
	c, err := comnorm.NewConsumer(client(t, base), queueID,
		comnorm.WithPollTimeout(5*time.Second), comnorm.WithBatch(10),
		comnorm.WithErrorBackoff(func(int) time.Duration { return 100 * time.Millisecond }))
	if err != nil {
		t.Fatal(err)
	}
	c.OnMessage(l.handle)
	wg.Go(func() {
		if err := c.Run(ctx); err != nil {
			t.Error(err)
		}
	})
}

// Two instances behind a round-robin load balancer, senders and consumers
// all going through it (so every request may hit either instance): every
// message is delivered exactly once and the queues end empty. (A peek
// whose snapshot predates a delete's commit, likelier when the two hit
// different instances, returns a just-deleted message; the consumer skips
// such stale copies.)
func TestTwoInstancesBehindLoadBalancer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	dsn := pgtest.New(t).URL
	lb := loadBalancer(t, instance(t, dsn), instance(t, dsn))
	const queues, senders, perSender = 4, 2, 60
	l := newLedger(queues * senders * perSender)
	var keys []string
	var qs []*comnorm.Queue
	for range queues {
		q, err := client(t, lb).CreateQueue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		qs = append(qs, q)
	}
	cctx, stop := context.WithCancel(ctx)
	var consumers sync.WaitGroup
	for _, q := range qs {
		consume(cctx, t, &consumers, lb, q.ID, l)
	}
	var sendWG sync.WaitGroup
	for qi, q := range qs {
		for s := range senders {
			for i := range perSender {
				keys = append(keys, fmt.Sprintf("q%d-s%d-%d", qi, s, i))
			}
			sendWG.Go(func() {
				snd := sender(t)
				for i := range perSender {
					if err := snd.Post(ctx, q.NotificationURL, q.NotificationSecret, map[string]string{"k": fmt.Sprintf("q%d-s%d-%d", qi, s, i)}); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
	}
	sendWG.Wait()
	select {
	case <-l.all:
	case <-ctx.Done():
		t.Fatal("not every message delivered in time")
	}
	stop()
	consumers.Wait()
	l.check(t, keys, false)
	for _, q := range qs {
		msgs, err := client(t, lb).Peek(ctx, q.ID, comnorm.PeekOptions{Count: 10})
		if err != nil || len(msgs) != 0 {
			t.Errorf("queue %s after consuming: %d messages, %v", q.ID, len(msgs), err)
		}
	}
}

// PostgreSQL crashes (SIGKILL) and comes back while two instances serve a
// consumer and senders: the servers recover by themselves and nothing
// posted, before or after the crash, is lost.
func TestServersRecoverFromDatabaseCrash(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	db := pgtest.NewServer(t)
	lb := loadBalancer(t, instance(t, db.URL), instance(t, db.URL))
	q, err := client(t, lb).CreateQueue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const before, after = 20, 20
	var keys []string
	for i := range before + after {
		keys = append(keys, fmt.Sprint("m", i))
	}
	snd := sender(t)
	post := func(i int, retry bool) {
		for {
			err := snd.Post(ctx, q.NotificationURL, q.NotificationSecret, map[string]string{"k": keys[i]})
			if err == nil || !retry || ctx.Err() != nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			time.Sleep(50 * time.Millisecond) // a 500 while connections are replaced
		}
	}
	for i := range before {
		post(i, false)
	}
	if err := db.Kill(); err != nil {
		t.Fatal(err)
	}
	l := newLedger(before + after)
	cctx, stop := context.WithCancel(ctx)
	var consumers sync.WaitGroup
	consume(cctx, t, &consumers, lb, q.ID, l) // starts against a dead database
	time.Sleep(200 * time.Millisecond)
	if err := db.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for i := before; i < before+after; i++ {
		post(i, true)
	}
	select {
	case <-l.all:
	case <-ctx.Done():
		t.Fatal("not every message delivered after the database came back")
	}
	stop()
	consumers.Wait()
	// A post whose answer was lost in the crash may have been retried, so
	// duplicates are allowed here; losses are not.
	l.check(t, keys, true)
}
