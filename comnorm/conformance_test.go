package comnorm_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notifykit/notifykit/comnorm"
	"github.com/notifykit/notifykit/comnorm/comnormserver"
	"github.com/notifykit/notifykit/comnorm/comnormtest"
)

// hostedLike wraps our server so it answers the way the hosted service may,
// within what the vendor document allows: an empty long poll is 200 [] (not
// 408), deleting an already deleted message is 404, and a post is answered
// 201 with a body.
type hostedLike struct {
	next    http.Handler
	mu      sync.Mutex
	deleted map[string]bool
}

type statusRewriter struct {
	http.ResponseWriter
	rewrite func(int) (int, string)
	body    string
}

func (w *statusRewriter) WriteHeader(code int) {
	code, w.body = w.rewrite(code)
	w.ResponseWriter.WriteHeader(code)
	if w.body != "" {
		_, _ = w.ResponseWriter.Write([]byte(w.body))
	}
}

func (h *hostedLike) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodDelete && len(parts) == 5: // api/queues/{q}/messages/{m}
		h.mu.Lock()
		gone := h.deleted[parts[4]]
		h.deleted[parts[4]] = true
		h.mu.Unlock()
		if gone {
			w.WriteHeader(http.StatusNotFound)
			return
		}
	case r.Method == http.MethodPost && len(parts) == 4: // a post
		w = &statusRewriter{ResponseWriter: w, rewrite: func(c int) (int, string) {
			if c == http.StatusOK {
				return http.StatusCreated, `{"status":"queued"}`
			}
			return c, ""
		}}
	}
	h.next.ServeHTTP(w, r)
}

// TestClientConformance runs the same client and consumer checks against
// our server and against a fake with the hosted service's latitude.
func TestClientConformance(t *testing.T) {
	targets := map[string]func(t *testing.T) (string, string){
		"comnormserver": func(t *testing.T) (string, string) {
			srv := comnormtest.NewServer(t)
			return srv.URL, srv.PartnerKey
		},
		"hosted-like": func(t *testing.T) (string, string) {
			srv := comnormtest.NewServer(t, comnormserver.WithEmptyPollOK())
			hs := httptest.NewServer(&hostedLike{next: srv.Handler, deleted: map[string]bool{}})
			t.Cleanup(hs.Close)
			return hs.URL + "/api", srv.PartnerKey
		},
	}
	for name, start := range targets {
		t.Run(name, func(t *testing.T) {
			base, key := start(t)
			c, err := comnorm.NewClient(key, comnorm.WithBaseURL(base))
			if err != nil {
				t.Fatal(err)
			}
			q, err := c.CreateQueue(bg)
			if err != nil {
				t.Fatal(err)
			}
			s := newSender(t)
			if err := s.Post(bg, q.NotificationURL, q.NotificationSecret, map[string]string{"hello": "wörld"}); err != nil {
				t.Fatalf("post: %v", err)
			}
			msgs, err := c.Peek(bg, q.ID, comnorm.PeekOptions{Count: 5})
			if err != nil || len(msgs) != 1 || string(msgs[0].Content) != `{"hello":"wörld"}` {
				t.Fatalf("peek: %v %v", msgs, err)
			}
			for range 2 { // the second delete meets an already deleted message
				if err := c.DeleteMessage(bg, q.ID, msgs[0].ID); err != nil {
					t.Fatalf("delete: %v", err)
				}
			}
			start := time.Now()
			if msgs, err := c.Peek(bg, q.ID, comnorm.PeekOptions{Timeout: time.Second}); err != nil || msgs != nil || time.Since(start) < 900*time.Millisecond {
				t.Fatalf("empty long poll: %v %v after %v", msgs, err, time.Since(start))
			}

			postN(t, q, 0, 30)
			var mu sync.Mutex
			seen := map[int]int{}
			cons, _ := comnorm.NewConsumer(c, q.ID, fastOpts(comnorm.WithConcurrency(3))...)
			cons.OnMessage(func(ctx context.Context, e *comnorm.Event) error {
				var v numbered
				if err := e.Decode(&v); err != nil {
					return err
				}
				mu.Lock()
				seen[v.N]++
				mu.Unlock()
				return nil
			})
			stop := runConsumer(t, cons)
			waitUntil(t, 10*time.Second, "30 messages", func() bool { mu.Lock(); defer mu.Unlock(); return len(seen) == 30 })
			waitUntil(t, 5*time.Second, "empty queue", func() bool { return queueLen(t, c, q) == 0 })
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			for n, k := range seen {
				if k != 1 {
					t.Errorf("message %d handled %d times", n, k)
				}
			}
			if err := c.DeleteQueue(bg, q.ID); err != nil {
				t.Fatal(err)
			}
		})
	}
}
