package comnormserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notifykit/notifykit/comnorm/comnormserver"
)

const (
	keyAlice = "alice-key-0123456789"
	keyBob   = "bob-key-0123456789ab"
)

type env struct {
	t   *testing.T
	url string
	srv *comnormserver.Server
	log *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func newEnv(t *testing.T, opts ...comnormserver.Option) *env {
	t.Helper()
	keys, err := comnormserver.NewStaticKeys(map[string]string{"alice": keyAlice, "bob": keyBob})
	if err != nil {
		t.Fatal(err)
	}
	log := &syncBuffer{}
	opts = append([]comnormserver.Option{comnormserver.WithLogger(slog.New(slog.NewTextHandler(log, nil)))}, opts...)
	srv, err := comnormserver.New(comnormserver.NewMemoryStore(), keys, opts...)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { srv.Close(); hs.Close() })
	return &env{t: t, url: hs.URL, srv: srv, log: log}
}

// do sends one request and returns status and body.
func (e *env) do(method, path string, hdr map[string]string, body string) (int, string) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = []string{v}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func partner(k string) map[string]string { return map[string]string{"X-PARTNER-KEY": k} }
func secret(s string) map[string]string  { return map[string]string{"X-COMNORM-NOTIFICATION-SECRET": s} }

type created struct {
	QueueID            string `json:"queueId"`
	NotificationURL    string `json:"notificationURL"`
	NotificationSecret string `json:"notificationSecret"`
}

func (e *env) create(key string) created {
	e.t.Helper()
	st, body := e.do("POST", "/api/queues", partner(key), "")
	if st != 200 {
		e.t.Fatalf("create: %d %s", st, body)
	}
	var c created
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) post(q created, body string) int {
	e.t.Helper()
	st, _ := e.do("POST", strings.TrimPrefix(q.NotificationURL, e.url), secret(q.NotificationSecret), body)
	return st
}

type peeked struct {
	MessageID string          `json:"messageId"`
	Content   json.RawMessage `json:"content"`
}

func (e *env) peek(key, qid, query string) (int, []peeked, string) {
	e.t.Helper()
	st, body := e.do("GET", "/api/queues/"+qid+"/messages"+query, partner(key), "")
	var ms []peeked
	if st == 200 {
		if err := json.Unmarshal([]byte(body), &ms); err != nil {
			e.t.Fatalf("peek body %q: %v", body, err)
		}
	}
	return st, ms, body
}

func TestCreateQueue(t *testing.T) {
	e := newEnv(t)
	q := e.create(keyAlice)
	if len(q.QueueID) < 16 || len(q.NotificationSecret) < 43 {
		t.Fatalf("weak ids: %+v", q)
	}
	if want := e.url + "/api/queues/" + q.QueueID + "/messages"; q.NotificationURL != want {
		t.Fatalf("notificationURL %q, want %q", q.NotificationURL, want)
	}
	if q2 := e.create(keyAlice); q2.QueueID == q.QueueID || q2.NotificationSecret == q.NotificationSecret {
		t.Fatal("ids or secrets repeat")
	}
	for _, h := range []map[string]string{nil, partner("wrong-key-0123456789")} {
		if st, body := e.do("POST", "/api/queues", h, ""); st != 401 || body != "" {
			t.Fatalf("bad key: %d %q", st, body)
		}
	}
}

func TestPublicURLAndPrefix(t *testing.T) {
	e := newEnv(t, comnormserver.WithPublicURL("https://queue.example.com/"), comnormserver.WithPrefix("/v1"))
	st, body := e.do("POST", "/v1/queues", partner(keyAlice), "")
	var c created
	_ = json.Unmarshal([]byte(body), &c)
	if st != 200 || c.NotificationURL != "https://queue.example.com/v1/queues/"+c.QueueID+"/messages" {
		t.Fatalf("%d %s", st, body)
	}
	if st, _ := e.do("POST", "/api/queues", partner(keyAlice), ""); st != 404 {
		t.Fatalf("old prefix still served: %d", st)
	}
}

func TestQueueLimitPerPartner(t *testing.T) {
	e := newEnv(t, comnormserver.WithLimits(comnormserver.Limits{MaxQueuesPerPartner: 2}))
	e.create(keyAlice)
	e.create(keyAlice)
	if st, body := e.do("POST", "/api/queues", partner(keyAlice), ""); st != 429 || !strings.Contains(body, "error") {
		t.Fatalf("third queue: %d %s", st, body)
	}
	e.create(keyBob)
}

func TestPostMessage(t *testing.T) {
	e := newEnv(t)
	q := e.create(keyAlice)
	if st, body := e.do("POST", "/api/queues/"+q.QueueID+"/messages", secret(q.NotificationSecret), `{"a":1}`); st != 200 || body != "" {
		t.Fatalf("post: %d %q", st, body)
	}
	// No X-PARTNER-KEY needed; a partner key instead of the secret is not enough.
	if st, body := e.do("POST", "/api/queues/"+q.QueueID+"/messages", partner(keyAlice), `{}`); st != 401 || body != "" {
		t.Fatalf("partner key instead of secret: %d %q", st, body)
	}
	if st := e.post(created{NotificationURL: q.NotificationURL, NotificationSecret: q.NotificationSecret + "x"}, `{}`); st != 401 {
		t.Fatalf("wrong secret: %d", st)
	}
	other := e.create(keyAlice)
	if st := e.post(created{NotificationURL: q.NotificationURL, NotificationSecret: other.NotificationSecret}, `{}`); st != 401 {
		t.Fatalf("another queue's secret: %d", st)
	}
	if st, _ := e.do("POST", "/api/queues/nope/messages", secret(q.NotificationSecret), `{}`); st != 404 {
		t.Fatalf("unknown queue: %d", st)
	}
	// Content-Type is not required.
	if st, _ := e.do("POST", "/api/queues/"+q.QueueID+"/messages", map[string]string{"X-COMNORM-NOTIFICATION-SECRET": q.NotificationSecret, "Content-Type": "text/plain"}, `{}`); st != 200 {
		t.Fatalf("text/plain: %d", st)
	}
}

// object returns a JSON object of exactly n characters whose filler is r.
func object(n int, r string) string {
	const frame = `{"x":""}` // 8 characters
	return `{"x":"` + strings.Repeat(r, n-len(frame)) + `"}`
}

func TestPostSizeLimitCountsCharacters(t *testing.T) {
	e := newEnv(t)
	q := e.create(keyAlice)
	cases := []struct {
		name  string
		body  string
		want  int
		bytes int
	}{
		{"ascii 16384", object(16384, "a"), 200, 16384},
		{"ascii 16385", object(16385, "a"), 413, 16385},
		{"2-byte 16384", object(16384, "ü"), 200, 8 + 2*16376},
		{"2-byte 16385", object(16385, "ü"), 413, 8 + 2*16377},
		{"3-byte 16384", object(16384, "€"), 200, 8 + 3*16376},
		{"3-byte 16385", object(16385, "€"), 413, 8 + 3*16377},
		{"4-byte 16384", object(16384, "𝄞"), 200, 8 + 4*16376},
		{"4-byte 16385", object(16385, "𝄞"), 413, 8 + 4*16377},
		{"far too big", object(70000, "a"), 413, 70000},
	}
	for _, c := range cases {
		if len(c.body) != c.bytes {
			t.Fatalf("%s: test body has %d bytes, want %d", c.name, len(c.body), c.bytes)
		}
		if st := e.post(q, c.body); st != c.want {
			t.Errorf("%s: status %d, want %d", c.name, st, c.want)
		}
	}
	_, ms, _ := e.peek(keyAlice, q.QueueID, "?count=100")
	if len(ms) != 4 {
		t.Fatalf("stored %d messages, want 4", len(ms))
	}
	if string(ms[3].Content) != object(16384, "𝄞") {
		t.Fatal("4-byte message not stored verbatim")
	}
}

func TestPostRejectsNonObjects(t *testing.T) {
	e := newEnv(t)
	q := e.create(keyAlice)
	for _, body := range []string{`[]`, `[{"a":1}]`, `"text"`, `42`, `true`, `null`, `{`, `{"a":}`, `{} {}`, `{"a":1}x`, "", "   ", "{\"a\":\"\xff\"}"} {
		st, resp := e.do("POST", "/api/queues/"+q.QueueID+"/messages", secret(q.NotificationSecret), body)
		if st != 400 || !strings.Contains(resp, `"error"`) {
			t.Errorf("body %q: %d %s", body, st, resp)
		}
	}
	if st := e.post(q, " \n{\"ok\": true}\n"); st != 200 {
		t.Errorf("object with surrounding whitespace: %d", st)
	}
}

func TestQueueFull(t *testing.T) {
	e := newEnv(t, comnormserver.WithLimits(comnormserver.Limits{MaxMessagesPerQueue: 2}))
	q := e.create(keyAlice)
	e.post(q, `{}`)
	e.post(q, `{}`)
	if st := e.post(q, `{}`); st != 429 {
		t.Fatalf("full queue: %d", st)
	}
}

func TestPeek(t *testing.T) {
	e := newEnv(t)
	q := e.create(keyAlice)
	if st, ms, body := e.peek(keyAlice, q.QueueID, ""); st != 200 || len(ms) != 0 || body != "[]" {
		t.Fatalf("empty queue without timeout: %d %q", st, body)
	}
	for i := range 5 {
		e.post(q, fmt.Sprintf(`{ "n" : %d }`, i))
	}
	st, ms, _ := e.peek(keyAlice, q.QueueID, "")
	if st != 200 || len(ms) != 1 || string(ms[0].Content) != `{ "n" : 0 }` {
		t.Fatalf("default count: %d %+v", st, ms)
	}
	_, ms3, _ := e.peek(keyAlice, q.QueueID, "?count=3")
	if len(ms3) != 3 || ms3[0].MessageID != ms[0].MessageID || string(ms3[2].Content) != `{ "n" : 2 }` {
		t.Fatalf("count=3: %+v", ms3)
	}
	if _, m0, _ := e.peek(keyAlice, q.QueueID, "?count=0"); len(m0) != 1 {
		t.Fatalf("count=0 gives %d", len(m0))
	}
	for _, bad := range []string{"?count=x", "?count=1.5", "?timeout=abc", "?timeout=-1", "?count=-2"} {
		if st, _, _ := e.peek(keyAlice, q.QueueID, bad); st != 400 {
			t.Errorf("%s: %d", bad, st)
		}
	}
	if st, _, _ := e.peek(keyBob, q.QueueID, ""); st != 404 {
		t.Fatalf("other partner: %d", st)
	}
	if st, _, _ := e.peek("", q.QueueID, ""); st != 401 {
		t.Fatalf("no key: %d", st)
	}
	if st, _, _ := e.peek(keyAlice, "nope", ""); st != 404 {
		t.Fatalf("unknown queue: %d", st)
	}
}

func TestPeekCountIsCapped(t *testing.T) {
	e := newEnv(t, comnormserver.WithLimits(comnormserver.Limits{MaxCount: 3}))
	q := e.create(keyAlice)
	for range 5 {
		e.post(q, `{}`)
	}
	if _, ms, _ := e.peek(keyAlice, q.QueueID, "?count=1000"); len(ms) != 3 {
		t.Fatalf("count capped to %d", len(ms))
	}
}

func TestLongPollTimesOutWith408(t *testing.T) {
	e := newEnv(t)
	q := e.create(keyAlice)
	start := time.Now()
	st, _, body := e.peek(keyAlice, q.QueueID, "?timeout=1")
	if el := time.Since(start); st != 408 || el < 900*time.Millisecond || el > 3*time.Second {
		t.Fatalf("status %d after %v: %s", st, el, body)
	}
}

func TestLongPollEmptyOK(t *testing.T) {
	e := newEnv(t, comnormserver.WithEmptyPollOK())
	q := e.create(keyAlice)
	if st, _, body := e.peek(keyAlice, q.QueueID, "?timeout=1"); st != 200 || body != "[]" {
		t.Fatalf("%d %q", st, body)
	}
}

func TestLongPollWakesOnPost(t *testing.T) {
	e := newEnv(t)
	q := e.create(keyAlice)
	go func() {
		time.Sleep(200 * time.Millisecond)
		e.post(q, `{"wake":true}`)
	}()
	start := time.Now()
	st, ms, _ := e.peek(keyAlice, q.QueueID, "?timeout=20")
	if el := time.Since(start); st != 200 || len(ms) != 1 || el > 2*time.Second {
		t.Fatalf("status %d, %d messages after %v", st, len(ms), el)
	}
}

func TestLongPollMaxTimeoutIsCapped(t *testing.T) {
	e := newEnv(t, comnormserver.WithLimits(comnormserver.Limits{MaxTimeout: time.Second}))
	q := e.create(keyAlice)
	start := time.Now()
	if st, _, _ := e.peek(keyAlice, q.QueueID, "?timeout=3600"); st != 408 || time.Since(start) > 3*time.Second {
		t.Fatalf("status %d after %v", st, time.Since(start))
	}
}

func TestLongPollEndsWhenQueueDeleted(t *testing.T) {
	e := newEnv(t)
	q := e.create(keyAlice)
	go func() {
		time.Sleep(200 * time.Millisecond)
		e.do("DELETE", "/api/queues/"+q.QueueID, partner(keyAlice), "")
	}()
	if st, _, _ := e.peek(keyAlice, q.QueueID, "?timeout=20"); st != 404 {
		t.Fatalf("status %d", st)
	}
}

func TestCloseAnswersWaitingPolls503(t *testing.T) {
	e := newEnv(t)
	q := e.create(keyAlice)
	go func() {
		time.Sleep(200 * time.Millisecond)
		e.srv.Close()
	}()
	if st, _, _ := e.peek(keyAlice, q.QueueID, "?timeout=20"); st != 503 {
		t.Fatalf("status %d", st)
	}
}

func TestDeleteMessage(t *testing.T) {
	e := newEnv(t)
	q := e.create(keyAlice)
	e.post(q, `{"n":1}`)
	e.post(q, `{"n":2}`)
	_, ms, _ := e.peek(keyAlice, q.QueueID, "")
	path := "/api/queues/" + q.QueueID + "/messages/" + ms[0].MessageID
	if st, _ := e.do("DELETE", path, partner(keyBob), ""); st != 404 {
		t.Fatalf("other partner: %d", st)
	}
	if st, _ := e.do("DELETE", path, nil, ""); st != 401 {
		t.Fatalf("no key: %d", st)
	}
	if st, _ := e.do("DELETE", path, partner(keyAlice), ""); st != 200 {
		t.Fatalf("delete: %d", st)
	}
	if st, _ := e.do("DELETE", path, partner(keyAlice), ""); st != 200 {
		t.Fatalf("delete again: %d", st)
	}
	if st, _ := e.do("DELETE", "/api/queues/nope/messages/x", partner(keyAlice), ""); st != 404 {
		t.Fatalf("unknown queue: %d", st)
	}
	_, after, _ := e.peek(keyAlice, q.QueueID, "?count=10")
	if len(after) != 1 || string(after[0].Content) != `{"n":2}` {
		t.Fatalf("after delete: %+v", after)
	}
}

func TestDeleteQueue(t *testing.T) {
	e := newEnv(t)
	q := e.create(keyAlice)
	e.post(q, `{}`)
	if st, _ := e.do("DELETE", "/api/queues/"+q.QueueID, partner(keyBob), ""); st != 404 {
		t.Fatalf("other partner: %d", st)
	}
	if st, _ := e.do("DELETE", "/api/queues/"+q.QueueID, partner(keyAlice), ""); st != 200 {
		t.Fatalf("delete: %d", st)
	}
	if st, _ := e.do("DELETE", "/api/queues/"+q.QueueID, partner(keyAlice), ""); st != 404 {
		t.Fatalf("delete again: %d", st)
	}
	if st := e.post(q, `{}`); st != 404 {
		t.Fatalf("post to deleted queue: %d", st)
	}
}

func TestHealthzAndMethods(t *testing.T) {
	e := newEnv(t)
	if st, body := e.do("GET", "/healthz", nil, ""); st != 200 || body != "ok\n" {
		t.Fatalf("healthz: %d %q", st, body)
	}
	if st, _ := e.do("PUT", "/api/queues", partner(keyAlice), ""); st != 405 {
		t.Fatalf("PUT: %d", st)
	}
}

func TestAccessLogHasNoSecrets(t *testing.T) {
	e := newEnv(t)
	q := e.create(keyAlice)
	e.post(q, `{"a":1}`)
	e.do("POST", "/api/queues", partner("wrong-key-0123456789"), "")
	log := e.log.String()
	if !strings.Contains(log, "status=200") || !strings.Contains(log, "status=401") {
		t.Fatalf("access log incomplete:\n%s", log)
	}
	for _, s := range []string{keyAlice, q.NotificationSecret, "wrong-key-0123456789"} {
		if strings.Contains(log, s) {
			t.Fatalf("log contains a credential:\n%s", log)
		}
	}
}

func TestListenAndServe(t *testing.T) {
	dir := t.TempDir()
	keyFile := dir + "/keys"
	if err := writeFile(keyFile, "# partners\nalice "+keyAlice+"\n\n"+keyBob+"\n"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrCh := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- comnormserver.ListenAndServe(ctx, comnormserver.Config{
			Addr: "127.0.0.1:0", PartnerKeysFile: keyFile, DataDir: dir + "/data",
			Ready: func(a net.Addr) { addrCh <- a },
		})
	}()
	var addr net.Addr
	select {
	case addr = <-addrCh:
	case err := <-done:
		t.Fatal(err)
	}
	base := "http://" + addr.String()
	e := &env{t: t, url: base}
	q := e.create(keyBob) // a key-only line works
	if st := e.post(q, `{"x":1}`); st != 200 {
		t.Fatalf("post: %d", st)
	}
	// Oversized headers are refused by net/http with 431.
	if st, _ := e.do("GET", "/healthz", map[string]string{"X-Big": strings.Repeat("a", 64<<10)}, ""); st != 431 {
		t.Fatalf("big header: %d", st)
	}
	// A waiting long poll must not hold up shutdown.
	pollDone := make(chan int, 1)
	go func() {
		_, ms, _ := e.peek(keyBob, q.QueueID, "")
		e.do("DELETE", "/api/queues/"+q.QueueID+"/messages/"+ms[0].MessageID, partner(keyBob), "")
		st, _, _ := e.peek(keyBob, q.QueueID, "?timeout=25")
		pollDone <- st
	}()
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("ListenAndServe: %v", err)
	}
	if st := <-pollDone; st != 503 || time.Since(start) > 5*time.Second {
		t.Fatalf("waiting poll got %d after %v", st, time.Since(start))
	}
}

func TestListenAndServeNeedsKeysAndStore(t *testing.T) {
	ctx := context.Background()
	if err := comnormserver.ListenAndServe(ctx, comnormserver.Config{DataDir: t.TempDir()}); err == nil {
		t.Fatal("no partner keys accepted")
	}
	keyFile := t.TempDir() + "/keys"
	_ = writeFile(keyFile, "alice "+keyAlice+"\n")
	if err := comnormserver.ListenAndServe(ctx, comnormserver.Config{PartnerKeysFile: keyFile}); err == nil {
		t.Fatal("no data dir accepted")
	}
}
