package webhookbench

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/notifykit/notifykit/dsgo"
)

// The handlers alone, without the network: where the ratio is decided.
func benchHandler(b *testing.B, h http.Handler) {
	b.ReportAllocs()
	var i int64
	for b.Loop() {
		i++
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(Body(1, i)))
		req.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}

func BenchmarkHandlerSDK(b *testing.B) {
	r, _ := dsgo.NewReceiver(consumerID, dsgo.StaticBearer(token))
	r.OnEvent(func(context.Context, *dsgo.Event) error { return nil })
	benchHandler(b, r)
}

func BenchmarkHandlerBaseline(b *testing.B) {
	benchHandler(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n wikiNotification
		if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
			w.WriteHeader(400)
			return
		}
		w.WriteHeader(200)
	}))
}
