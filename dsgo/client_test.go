package dsgo_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notifykit/notifykit/dsgo"
)

// A provider double for status codes dsgoprovider never sends (204, 409,
// pagination fields, OAuth bodies on 500), to check the client's tolerance.
func TestClientStatusHandling(t *testing.T) {
	var lastAuth, lastUA atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lastAuth.Store(r.Header.Get("Authorization"))
		lastUA.Store(r.Header.Get("User-Agent"))
		switch r.Method + " " + r.URL.EscapedPath() {
		case "GET /api/subscriptions":
			io.WriteString(w, `{"count":1,"totalCount":1,"next":null,"subscriptions":[{"id":"sub_1","href":"/subscriptions/sub_1","class":"subscription","created_date":"1663752217","status":"active","event_type":["Modified"]}]}`)
		case "DELETE /api/subscriptions/sub_204":
			w.WriteHeader(http.StatusNoContent)
		case "DELETE /api/subscriptions/sub_409":
			w.WriteHeader(http.StatusConflict)
		case "GET /api/subscriptions/sub_500":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"error":"server_error","error_description":"database down"}`)
		case "GET /api/subscriptions/a%2Fb":
			io.WriteString(w, `{"id":"a/b"}`)
		case "POST /api/subscriptions/sub_1/test":
			w.WriteHeader(http.StatusAccepted)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := dsgo.NewClient(srv.URL+"/api/", dsgo.WithTokenSource(dsgo.StaticToken("tok")))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	l, err := c.Subscriptions.List(ctx)
	if err != nil || l.Count != 1 || l.Subscriptions[0].URL != "/subscriptions/sub_1" || l.Extra["totalCount"] == nil {
		t.Fatalf("list: %+v %v", l, err)
	}
	if lastAuth.Load() != "Bearer tok" || lastUA.Load() != "notifykit/0.1" {
		t.Fatalf("headers: %v %v", lastAuth.Load(), lastUA.Load())
	}
	if err := c.Subscriptions.Delete(ctx, "sub_204"); err != nil {
		t.Fatalf("204: %v", err)
	}
	if err := c.Subscriptions.Delete(ctx, "sub_409"); !errors.Is(err, dsgo.ErrNotActive) {
		t.Fatalf("409: %v", err)
	}
	_, err = c.Subscriptions.Get(ctx, "sub_500")
	var apiErr *dsgo.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 500 || apiErr.OAuth.Code != "server_error" ||
		!strings.Contains(err.Error(), "database down") || errors.Is(err, dsgo.ErrNotFound) {
		t.Fatalf("500: %v", err)
	}
	if _, err := c.Subscriptions.Get(ctx, "sub_missing"); !errors.Is(err, dsgo.ErrNotFound) {
		t.Fatalf("404: %v", err)
	}
	if s, err := c.Subscriptions.Get(ctx, "a/b"); err != nil || s.ID != "a/b" {
		t.Fatalf("ids are path-escaped: %v", err)
	}
	if e, err := c.Subscriptions.Test(ctx, "sub_1"); err != nil || e != nil {
		t.Fatalf("202 without body: %v %v", e, err)
	}
	if _, err := c.Subscriptions.Create(ctx, dsgo.SubscriptionCreate{}); !errors.Is(err, dsgo.ErrInvalid) {
		t.Fatalf("empty create: %v", err)
	}
	if _, err := dsgo.NewClient("not a url"); !errors.Is(err, dsgo.ErrOption) {
		t.Fatalf("bad base URL: %v", err)
	}
}

func TestClientRetriesNetworkErrorsOnlyWhenIdempotent(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			// Drop the connection without an answer.
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		}
		io.WriteString(w, `{"count":0,"subscriptions":[]}`)
	}))
	t.Cleanup(srv.Close)
	c, _ := dsgo.NewClient(srv.URL, dsgo.WithRetry(3, func(int) time.Duration { return time.Millisecond }))
	if _, err := c.Subscriptions.List(context.Background()); err != nil || calls.Load() != 2 {
		t.Fatalf("GET after a dropped connection: %v (%d calls)", err, calls.Load())
	}
	calls.Store(0)
	_, err := c.Subscriptions.Create(context.Background(), dsgo.SubscriptionCreate{EventTypes: []string{"A"}, WebhookURL: "https://x.example"})
	if err == nil || calls.Load() != 1 {
		t.Fatalf("POST retried after a dropped connection: %v (%d calls)", err, calls.Load())
	}
}
