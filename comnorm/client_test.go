package comnorm_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notifykit/notifykit/comnorm"
	"github.com/notifykit/notifykit/comnorm/comnormtest"
	"github.com/notifykit/notifykit/internal/backoff"
)

var bg = context.Background()

// setup returns a client and a fresh queue on an in-process server.
func setup(t *testing.T) (*comnormtest.Server, *comnorm.Client, *comnorm.Queue) {
	t.Helper()
	srv := comnormtest.NewServer(t)
	c, err := comnorm.NewClient(srv.PartnerKey, comnorm.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	q, err := c.CreateQueue(bg)
	if err != nil {
		t.Fatal(err)
	}
	return srv, c, q
}

func newSender(t *testing.T, opts ...comnorm.Option) *comnorm.Sender {
	t.Helper()
	s, err := comnorm.NewSender(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestClientRoundTrip(t *testing.T) {
	srv, c, q := setup(t)
	if !strings.HasPrefix(q.NotificationURL, srv.URL+"/queues/") || q.NotificationSecret == "" {
		t.Fatalf("queue %v", q)
	}
	if strings.Contains(q.String(), q.NotificationSecret) {
		t.Fatal("Queue.String leaks the secret")
	}
	s := newSender(t)
	for i := range 3 {
		if err := s.Post(bg, q.NotificationURL, q.NotificationSecret, map[string]int{"n": i}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Post(bg, q.NotificationURL, q.NotificationSecret, json.RawMessage(`{ "raw" : true }`)); err != nil {
		t.Fatal(err)
	}
	msgs, err := c.Peek(bg, q.ID, comnorm.PeekOptions{})
	if err != nil || len(msgs) != 1 {
		t.Fatalf("default peek: %v %v", msgs, err)
	}
	msgs, err = c.Peek(bg, q.ID, comnorm.PeekOptions{Count: 10})
	if err != nil || len(msgs) != 4 {
		t.Fatalf("peek 10: %d %v", len(msgs), err)
	}
	if string(msgs[3].Content) != `{ "raw" : true }` {
		t.Fatalf("raw content %s", msgs[3].Content)
	}
	var v struct{ N int }
	if err := msgs[2].Decode(&v); err != nil || v.N != 2 {
		t.Fatalf("decode: %v %v", v, err)
	}
	for _, m := range msgs {
		if err := c.DeleteMessage(bg, q.ID, m.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.DeleteMessage(bg, q.ID, msgs[0].ID); err != nil {
		t.Fatalf("deleting again: %v", err)
	}
	if msgs, err := c.Peek(bg, q.ID, comnorm.PeekOptions{Count: 10}); err != nil || msgs != nil {
		t.Fatalf("after delete: %v %v", msgs, err)
	}
	if err := c.DeleteQueue(bg, q.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteQueue(bg, q.ID); err != nil {
		t.Fatalf("deleting a gone queue: %v", err)
	}
	if _, err := c.Peek(bg, q.ID, comnorm.PeekOptions{}); !errors.Is(err, comnorm.ErrQueueNotFound) {
		t.Fatalf("peek deleted queue: %v", err)
	}
	if err := s.Post(bg, q.NotificationURL, q.NotificationSecret, map[string]int{}); !errors.Is(err, comnorm.ErrQueueNotFound) {
		t.Fatalf("post to deleted queue: %v", err)
	}
}

func TestLongPollEmptyIsNil(t *testing.T) {
	_, c, q := setup(t)
	start := time.Now()
	msgs, err := c.Peek(bg, q.ID, comnorm.PeekOptions{Timeout: time.Second})
	if err != nil || msgs != nil || time.Since(start) < 900*time.Millisecond {
		t.Fatalf("408 → %v %v after %v", msgs, err, time.Since(start))
	}
}

func TestLongPollWakeUp(t *testing.T) {
	_, c, q := setup(t)
	s := newSender(t)
	go func() {
		time.Sleep(100 * time.Millisecond)
		_ = s.Post(bg, q.NotificationURL, q.NotificationSecret, map[string]bool{"x": true})
	}()
	start := time.Now()
	msgs, err := c.Peek(bg, q.ID, comnorm.PeekOptions{Timeout: 20 * time.Second})
	if err != nil || len(msgs) != 1 || time.Since(start) > 2*time.Second {
		t.Fatalf("%v %v after %v", msgs, err, time.Since(start))
	}
}

func TestPartnerIsolationAndBadKey(t *testing.T) {
	srv, _, q := setup(t)
	bad, _ := comnorm.NewClient("not-a-valid-partner-key", comnorm.WithBaseURL(srv.URL))
	_, err := bad.CreateQueue(bg)
	var apiErr *comnorm.APIError
	if !errors.Is(err, comnorm.ErrUnauthorized) || !errors.As(err, &apiErr) || apiErr.StatusCode != 401 {
		t.Fatalf("bad key: %v", err)
	}
	if strings.Contains(err.Error(), "not-a-valid-partner-key") {
		t.Fatal("error contains the key")
	}
	if _, err := bad.Peek(bg, q.ID, comnorm.PeekOptions{}); !errors.Is(err, comnorm.ErrUnauthorized) {
		t.Fatalf("peek with bad key: %v", err)
	}
	if err := newSender(t).Post(bg, q.NotificationURL, "wrong-secret", map[string]int{}); !errors.Is(err, comnorm.ErrUnauthorized) || strings.Contains(err.Error(), "wrong-secret") {
		t.Fatalf("wrong secret: %v", err)
	}
}

func TestSenderChecksBeforeSending(t *testing.T) {
	var hits atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer hs.Close()
	s := newSender(t)
	url := hs.URL + "/api/queues/q/messages"
	obj := func(n int, fill string) json.RawMessage {
		return json.RawMessage(`{"x":"` + strings.Repeat(fill, (n-8)/len(fill)) + `"}`)
	}
	cases := []struct {
		name string
		v    any
		want error
	}{
		{"16384 bytes", obj(16384, "a"), nil},
		{"16385 bytes", obj(16385, "a"), comnorm.ErrMessageTooLarge},
		{"multi-byte within bytes", obj(16382, "€"), nil},
		{"multi-byte 16384 chars is too many bytes", json.RawMessage(`{"x":"` + strings.Repeat("€", 16376) + `"}`), comnorm.ErrMessageTooLarge},
		{"array", []int{1}, comnorm.ErrNotJSONObject},
		{"string", "text", comnorm.ErrNotJSONObject},
		{"number", 42, comnorm.ErrNotJSONObject},
		{"bool", true, comnorm.ErrNotJSONObject},
		{"null", nil, comnorm.ErrNotJSONObject},
		{"invalid", []byte(`{"a":`), comnorm.ErrNotJSONObject},
		{"empty", []byte(``), comnorm.ErrNotJSONObject},
		{"unmarshalable", map[string]any{"f": func() {}}, comnorm.ErrNotJSONObject},
	}
	for _, c := range cases {
		before := hits.Load()
		err := s.Post(bg, url, "secret", c.v)
		if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if sent := hits.Load() != before; sent != (c.want == nil) {
			t.Errorf("%s: sent=%v", c.name, sent)
		}
	}
	if err := s.Post(bg, "/relative", "secret", map[string]int{}); err == nil {
		t.Error("relative URL accepted")
	}
	if err := s.Post(bg, url, "", map[string]int{}); !errors.Is(err, comnorm.ErrUnauthorized) {
		t.Errorf("empty secret: %v", err)
	}
}

// fake answers every request with the scripted statuses in turn and records
// what it saw.
type fake struct {
	statuses []int
	body     string
	header   http.Header
	calls    atomic.Int32
	last     atomic.Pointer[http.Request]
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(f.calls.Add(1)) - 1
	f.last.Store(r.Clone(context.Background()))
	st := f.statuses[min(n, len(f.statuses)-1)]
	for k, v := range f.header {
		w.Header()[k] = v
	}
	w.WriteHeader(st)
	_, _ = io.WriteString(w, f.body)
}

func fakeClient(t *testing.T, f *fake, opts ...comnorm.Option) *comnorm.Client {
	hs := httptest.NewServer(f)
	t.Cleanup(hs.Close)
	opts = append([]comnorm.Option{comnorm.WithBaseURL(hs.URL + "/api"), comnorm.WithRetry(3, backoff.Constant(time.Millisecond))}, opts...)
	c, err := comnorm.NewClient("pk-secret-value", opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestStatusMapping(t *testing.T) {
	cases := []struct {
		status int
		want   error
	}{
		{401, comnorm.ErrUnauthorized},
		{403, comnorm.ErrUnauthorized},
		{404, comnorm.ErrQueueNotFound},
		{500, comnorm.ErrUnavailable},
		{503, comnorm.ErrUnavailable},
		{429, comnorm.ErrUnavailable},
	}
	for _, c := range cases {
		f := &fake{statuses: []int{c.status}, body: "pk-secret-value? no: " + strings.Repeat("x", 10000)}
		cl := fakeClient(t, f)
		_, err := cl.Peek(bg, "q", comnorm.PeekOptions{})
		var apiErr *comnorm.APIError
		if !errors.Is(err, c.want) || !errors.As(err, &apiErr) || apiErr.StatusCode != c.status || len(apiErr.Body) > 4096 {
			t.Errorf("%d: %v", c.status, err)
		}
		if got := f.last.Load().Header.Values("X-PARTNER-KEY"); len(got) != 1 || got[0] != "pk-secret-value" {
			t.Errorf("partner header sent as %v", f.last.Load().Header)
		}
	}
}

func TestPostStatusMapping(t *testing.T) {
	for st, want := range map[int]error{400: comnorm.ErrNotJSONObject, 413: comnorm.ErrMessageTooLarge, 429: comnorm.ErrQueueFull, 403: comnorm.ErrUnauthorized, 404: comnorm.ErrQueueNotFound} {
		f := &fake{statuses: []int{st}}
		hs := httptest.NewServer(f)
		err := newSender(t).Post(bg, hs.URL+"/q", "the-secret", map[string]int{})
		hs.Close()
		if !errors.Is(err, want) || strings.Contains(err.Error(), "the-secret") {
			t.Errorf("%d: %v", st, err)
		}
		if h := f.last.Load().Header; h.Get("Content-Type") != "application/json" || h.Get("X-COMNORM-NOTIFICATION-SECRET") != "the-secret" || h.Get("User-Agent") != "notifykit/0.1" {
			t.Errorf("headers %v", h)
		}
	}
	// Any 2xx is success.
	f := &fake{statuses: []int{204}}
	hs := httptest.NewServer(f)
	defer hs.Close()
	if err := newSender(t).Post(bg, hs.URL+"/q", "s", map[string]int{}); err != nil {
		t.Fatal(err)
	}
}

func TestIdempotentRetriesOnly(t *testing.T) {
	f := &fake{statuses: []int{503, 502, 200}, body: `[]`}
	c := fakeClient(t, f)
	if msgs, err := c.Peek(bg, "q", comnorm.PeekOptions{}); err != nil || msgs != nil || f.calls.Load() != 3 {
		t.Fatalf("peek: %v %v after %d calls", msgs, err, f.calls.Load())
	}
	f = &fake{statuses: []int{500, 200}}
	c = fakeClient(t, f)
	if err := c.DeleteMessage(bg, "q", "m"); err != nil || f.calls.Load() != 2 {
		t.Fatalf("delete: %v after %d calls", err, f.calls.Load())
	}
	f = &fake{statuses: []int{500, 200}, body: `{"queueId":"a","notificationURL":"http://x/","notificationSecret":"s"}`}
	c = fakeClient(t, f)
	if _, err := c.CreateQueue(bg); !errors.Is(err, comnorm.ErrUnavailable) || f.calls.Load() != 1 {
		t.Fatalf("create retried: %v after %d calls", err, f.calls.Load())
	}
	// Post: no retry by default; opt-in retries.
	f = &fake{statuses: []int{503, 200}}
	hs := httptest.NewServer(f)
	defer hs.Close()
	if err := newSender(t).Post(bg, hs.URL, "s", map[string]int{}); !errors.Is(err, comnorm.ErrUnavailable) || f.calls.Load() != 1 {
		t.Fatalf("post retried by default: %v, %d calls", err, f.calls.Load())
	}
	f.calls.Store(0)
	s := newSender(t, comnorm.WithRetry(3, backoff.Constant(time.Millisecond)))
	if err := s.Post(bg, hs.URL, "s", map[string]int{}); err != nil || f.calls.Load() != 2 {
		t.Fatalf("opt-in retry: %v, %d calls", err, f.calls.Load())
	}
	// 4xx other than 408/429 is not retried.
	f = &fake{statuses: []int{401, 200}}
	c = fakeClient(t, f)
	if _, err := c.Peek(bg, "q", comnorm.PeekOptions{}); !errors.Is(err, comnorm.ErrUnauthorized) || f.calls.Load() != 1 {
		t.Fatalf("401 retried: %v", err)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	f := &fake{statuses: []int{429, 200}, body: `[]`, header: http.Header{"Retry-After": {"1"}}}
	c := fakeClient(t, f)
	start := time.Now()
	if _, err := c.Peek(bg, "q", comnorm.PeekOptions{}); err != nil || time.Since(start) < 900*time.Millisecond {
		t.Fatalf("%v after %v", err, time.Since(start))
	}
}

func TestPeekQueryAndResponses(t *testing.T) {
	f := &fake{statuses: []int{200}, body: `[{"messageId":"m/1","content":{"a":1},"extra":true}]`}
	c := fakeClient(t, f)
	msgs, err := c.Peek(bg, "q 1", comnorm.PeekOptions{Count: 5, Timeout: 1500 * time.Millisecond})
	if err != nil || len(msgs) != 1 || msgs[0].ID != "m/1" || string(msgs[0].Content) != `{"a":1}` {
		t.Fatalf("%v %v", msgs, err)
	}
	r := f.last.Load()
	if r.URL.EscapedPath() != "/api/queues/q%201/messages" || r.URL.Query().Get("count") != "5" || r.URL.Query().Get("timeout") != "2" {
		t.Fatalf("request %s", r.URL)
	}
	_ = c.DeleteMessage(bg, "q", "m/1")
	if r := f.last.Load(); r.Method != "DELETE" || r.URL.EscapedPath() != "/api/queues/q/messages/m%2F1" {
		t.Fatalf("delete request %s %s", r.Method, r.URL.EscapedPath())
	}
	_, _ = c.Peek(bg, "q", comnorm.PeekOptions{})
	if r := f.last.Load(); r.URL.RawQuery != "" {
		t.Fatalf("zero options sent %q", r.URL.RawQuery)
	}
	for _, body := range []string{`{}`, `[{"content":{}}]`, `[1]`, `not json`} {
		f := &fake{statuses: []int{200}, body: body}
		if _, err := fakeClient(t, f).Peek(bg, "q", comnorm.PeekOptions{}); !errors.Is(err, comnorm.ErrMalformedResponse) {
			t.Errorf("%s: %v", body, err)
		}
	}
	for _, body := range []string{``, `[]`, ` [ ] `} {
		f := &fake{statuses: []int{200}, body: body}
		if msgs, err := fakeClient(t, f).Peek(bg, "q", comnorm.PeekOptions{}); err != nil || msgs != nil {
			t.Errorf("%q: %v %v", body, msgs, err)
		}
	}
	if _, err := c.Peek(bg, "q", comnorm.PeekOptions{Timeout: time.Hour}); err == nil {
		t.Error("timeout above MaxPollTimeout accepted")
	}
}

func TestCreateQueueMalformed(t *testing.T) {
	for _, body := range []string{`{}`, `nope`, `{"queueId":"a"}`} {
		f := &fake{statuses: []int{200}, body: body}
		if _, err := fakeClient(t, f).CreateQueue(bg); !errors.Is(err, comnorm.ErrMalformedResponse) {
			t.Errorf("%s: %v", body, err)
		}
	}
}

func TestPeekDeadlineAndCancel(t *testing.T) {
	hang := make(chan struct{})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer hs.Close()
	defer close(hang)
	c, _ := comnorm.NewClient("pk-0123456789abcdef", comnorm.WithBaseURL(hs.URL), comnorm.WithPollSlack(200*time.Millisecond), comnorm.WithRetry(1, nil))
	start := time.Now()
	_, err := c.Peek(bg, "q", comnorm.PeekOptions{Timeout: time.Second})
	if err == nil || time.Since(start) > 3*time.Second || errors.Is(err, context.DeadlineExceeded) && bg.Err() != nil {
		t.Fatalf("hung server: %v after %v", err, time.Since(start))
	}
	ctx, cancel := context.WithTimeout(bg, 100*time.Millisecond)
	defer cancel()
	if _, err := c.Peek(ctx, "q", comnorm.PeekOptions{Timeout: 10 * time.Second}); err != context.DeadlineExceeded {
		t.Fatalf("cancelled peek returned %v, want ctx.Err()", err)
	}
}

func TestNewClientValidation(t *testing.T) {
	if _, err := comnorm.NewClient(""); err == nil {
		t.Error("empty key accepted")
	}
	if _, err := comnorm.NewClient("k", comnorm.WithHTTPClient(&http.Client{Timeout: 30 * time.Second})); err == nil {
		t.Error("short http.Client timeout accepted")
	}
	tr := &http.Transport{ResponseHeaderTimeout: 10 * time.Second}
	if _, err := comnorm.NewClient("k", comnorm.WithHTTPClient(&http.Client{Transport: tr})); err == nil {
		t.Error("short ResponseHeaderTimeout accepted")
	}
	if _, err := comnorm.NewClient("k", comnorm.WithHTTPClient(&http.Client{Timeout: 5 * time.Minute})); err != nil {
		t.Error(err)
	}
	if _, err := comnorm.NewClient("k", comnorm.WithConcurrency(2)); err == nil {
		t.Error("consumer option accepted by client")
	}
	if _, err := comnorm.NewClient("k", comnorm.WithBaseURL("ftp://x")); err == nil {
		t.Error("ftp base URL accepted")
	}
	if _, err := comnorm.NewSender(comnorm.WithBaseURL("http://x")); err == nil {
		t.Error("client option accepted by sender")
	}
	c, _ := comnorm.NewClient("k")
	if _, err := comnorm.NewConsumer(c, "q", comnorm.WithBatch(0)); err == nil {
		t.Error("batch 0 accepted")
	}
	if _, err := comnorm.NewConsumer(c, "q", comnorm.WithHTTPClient(http.DefaultClient)); err == nil {
		t.Error("client option accepted by consumer")
	}
	if _, err := comnorm.NewConsumer(c, ""); err == nil {
		t.Error("empty queue id accepted")
	}
}

func TestAPIErrorMessage(t *testing.T) {
	e := &comnorm.APIError{Op: "peek", StatusCode: 503, Body: []byte(strings.Repeat("y", 500))}
	if s := e.Error(); !strings.Contains(s, "503") || len(s) > 300 {
		t.Fatal(s)
	}
	if !errors.Is(fmt.Errorf("wrapped: %w", e), comnorm.ErrUnavailable) {
		t.Fatal("wrapped APIError does not match")
	}
}

func FuzzDecodeMessages(f *testing.F) {
	for _, s := range []string{`[]`, `[{"messageId":"a","content":{"x":1}}]`, `[{"messageId":"","content":{}}]`, `{}`, `null`, `[{"messageId":1}]`, ``} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		msgs, err := comnorm.DecodeMessages([]byte(body))
		if err != nil {
			if !errors.Is(err, comnorm.ErrMalformedResponse) {
				t.Fatalf("error %v does not match ErrMalformedResponse", err)
			}
			return
		}
		for _, m := range msgs {
			if m.ID == "" {
				t.Fatal("message without id accepted")
			}
			var v any
			_ = m.Decode(&v)
		}
	})
}

func FuzzCheckBody(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, ` {"a":"€"} `, `{`, `"x"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if comnorm.CheckBody(b) == nil {
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil || len(b) > comnorm.MaxMessageSize {
				t.Fatalf("accepted %q", b)
			}
		}
	})
}

// TestWireHeaderSpelling reads the raw request bytes: the vendor's header
// names go out exactly as documented, not in Go's canonical form.
func TestWireHeaderSpelling(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	raw := make(chan string, 2)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			br := bufio.NewReader(conn)
			var head strings.Builder
			for {
				line, err := br.ReadString('\n')
				head.WriteString(line)
				if err != nil || line == "\r\n" {
					break
				}
			}
			raw <- head.String()
			_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n[]")
			conn.Close()
		}
	}()
	c, _ := comnorm.NewClient("pk-0123456789abcdef", comnorm.WithBaseURL("http://"+ln.Addr().String()+"/api"))
	if _, err := c.Peek(bg, "q", comnorm.PeekOptions{}); err != nil {
		t.Fatal(err)
	}
	if h := <-raw; !strings.Contains(h, "\r\nX-PARTNER-KEY: pk-0123456789abcdef\r\n") {
		t.Fatalf("peek request:\n%s", h)
	}
	// The post body is not read by this fake; the headers are what counts.
	_ = newSender(t).Post(bg, "http://"+ln.Addr().String()+"/api/queues/q/messages", "s3cret", map[string]int{})
	if h := <-raw; !strings.Contains(h, "\r\nX-COMNORM-NOTIFICATION-SECRET: s3cret\r\n") {
		t.Fatalf("post request:\n%s", h)
	}
}

func TestRequestTimeoutBoundsHungServer(t *testing.T) {
	hang := make(chan struct{})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer hs.Close()
	defer close(hang)
	s := newSender(t, comnorm.WithRequestTimeout(200*time.Millisecond))
	start := time.Now()
	if err := s.Post(bg, hs.URL+"/q", "s", map[string]int{}); err == nil || time.Since(start) > 3*time.Second {
		t.Fatalf("post to hung server: %v after %v", err, time.Since(start))
	}
	c, _ := comnorm.NewClient("pk-0123456789abcdef", comnorm.WithBaseURL(hs.URL), comnorm.WithRequestTimeout(200*time.Millisecond), comnorm.WithRetry(1, nil))
	start = time.Now()
	if _, err := c.CreateQueue(bg); err == nil || time.Since(start) > 3*time.Second {
		t.Fatalf("create on hung server: %v after %v", err, time.Since(start))
	}
}
