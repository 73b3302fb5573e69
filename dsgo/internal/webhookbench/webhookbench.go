// Package webhookbench is the dsgo-webhook benchmark scenario: the dsgo
// webhook receiver (static bearer authentication, notification validation,
// dedupe, a no-op handler) against a bare net/http handler that only
// decodes the JSON, both driven by the same load generator over loopback
// HTTP with keep-alive connections. internal/bench registers it; the
// package also serves go test -bench.
package webhookbench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/notifykit/notifykit/dsgo"
)

// Parameters of one run.
const (
	consumerID = "EU.EORI.NL000123456"
	providerID = "EU.EORI.NL000345678"
	token      = "bench-webhook-token"
	workers    = 16
	// RunFor is how long one run lasts unless ctx ends first.
	RunFor = 2 * time.Second
)

// SDK measures notifications per second through dsgo.Receiver.
func SDK(ctx context.Context) (float64, error) {
	r, err := dsgo.NewReceiver(consumerID, dsgo.StaticBearer(token))
	if err != nil {
		return 0, err
	}
	r.OnEvent(func(context.Context, *dsgo.Event) error { return nil })
	return Drive(ctx, r)
}

// wikiNotification is what a hand-written receiver would decode into.
type wikiNotification struct {
	ID             string `json:"id"`
	ResourceType   string `json:"resource_type"`
	Date           string `json:"date"`
	ConsumerID     string `json:"consumer_id"`
	ProviderID     string `json:"provider_id"`
	SubscriptionID string `json:"subscription_id"`
	Description    string `json:"description"`
	Event          []struct {
		ID           string          `json:"id"`
		ResourceType string          `json:"resource_type"`
		EventType    string          `json:"event_type"`
		Date         string          `json:"date"`
		Description  string          `json:"description"`
		EventData    json.RawMessage `json:"event_data"`
	} `json:"event"`
}

// Baseline measures notifications per second through a bare handler that
// decodes the JSON and answers 200.
func Baseline(ctx context.Context) (float64, error) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n wikiNotification
		if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	return Drive(ctx, h)
}

// Body returns notification number i as the provider would send it
// (distinct ids, so dedupe does real work on every request).
func Body(run int64, i int64) []byte {
	now := strconv.FormatInt(time.Now().Unix(), 10)
	id := strconv.FormatInt(run, 36) + "_" + strconv.FormatInt(i, 36)
	return []byte(`{"id":"not_` + id + `","resource_type":"notification","date":"` + now + `",` +
		`"consumer_id":"` + consumerID + `","provider_id":"` + providerID + `","subscription_id":"sub_123",` +
		`"description":"Record changed","event":[{"id":"eve_` + id + `","resource_type":"event","event_type":"Modified",` +
		`"date":"` + now + `","description":"Record changed","event_data":"Data record xyz has been modified by zyx"}]}`)
}

var runs atomic.Int64

// Drive runs the load generator against h for RunFor (or until ctx ends)
// and returns completed requests per second. Any non-200 answer fails the
// run: a fast wrong answer must not count.
func Drive(ctx context.Context, h http.Handler) (float64, error) {
	srv := httptest.NewServer(h)
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	ctx, cancel := context.WithTimeout(ctx, RunFor)
	defer cancel()
	run := runs.Add(1)
	var seq, done atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				body := Body(run, seq.Add(1))
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						once.Do(func() { firstErr = err })
					}
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					once.Do(func() { firstErr = fmt.Errorf("HTTP %d", resp.StatusCode) })
					cancel()
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return 0, firstErr
	}
	if done.Load() == 0 {
		return 0, errors.New("no request completed")
	}
	return float64(done.Load()) / elapsed.Seconds(), nil
}
