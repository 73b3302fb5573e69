package dsgo_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/notifykit/notifykit/dsgo"
)

// BenchmarkReceiver is the webhook's cost per notification without the
// network: static bearer, validation, dedupe, a no-op handler. The
// end-to-end comparison with a bare handler is go run ./internal/bench
// dsgo-webhook.
func BenchmarkReceiver(b *testing.B) {
	r, err := dsgo.NewReceiver(consumerID, dsgo.StaticBearer("tok"))
	if err != nil {
		b.Fatal(err)
	}
	r.OnEvent(func(context.Context, *dsgo.Event) error { return nil })
	now := strconv.FormatInt(time.Now().Unix(), 10)
	b.ReportAllocs()
	var i int
	for b.Loop() {
		i++
		id := strconv.Itoa(i)
		body := `{"id":"not_` + id + `","resource_type":"notification","date":"` + now + `","consumer_id":"` + consumerID +
			`","provider_id":"` + providerID + `","subscription_id":"sub_1","event":[{"id":"eve_` + id +
			`","resource_type":"event","event_type":"Modified","date":"` + now + `","event_data":"changed"}]}`
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader([]byte(body)))
		req.Header.Set("Authorization", "Bearer tok")
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code, w.Body)
		}
	}
}
