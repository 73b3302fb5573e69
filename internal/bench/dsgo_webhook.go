package main

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

// dsgo-webhook: the DSGO webhook receiver as a consumer runs it (static
// bearer authentication, notification validation with every spelling
// variant, dedupe by provider/notification/event, a no-op handler) against
// a bare net/http handler that only decodes the JSON. Both are driven by
// the same load generator: concurrent keep-alive clients POSTing distinct
// notifications over loopback, every answer checked for 200.
func init() {
	Register(Scenario[struct{}]{
		Name: "dsgo-webhook",
		Description: fmt.Sprintf("dsgo.Receiver (static bearer, validation, dedupe) vs a bare net/http JSON decode handler, %d POSTs, %d clients",
			dsgoWebhookRequests, dsgoWebhookClients),
		SDK:      dsgoWebhookSDK,
		Baseline: dsgoWebhookBaseline,
	})
}

const (
	dsgoWebhookRequests = 40_000
	dsgoWebhookClients  = 16
	dsgoWebhookToken    = "bench-webhook-token"
	dsgoWebhookConsumer = "EU.EORI.NL000123456"
	dsgoWebhookProvider = "EU.EORI.NL000345678"
)

func dsgoWebhookSDK(ctx context.Context, _ struct{}) (Result, error) {
	r, err := dsgo.NewReceiver(dsgoWebhookConsumer, dsgo.StaticBearer(dsgoWebhookToken))
	if err != nil {
		return Result{}, err
	}
	var handled atomic.Int64
	r.OnEvent(func(context.Context, *dsgo.Event) error { handled.Add(1); return nil })
	res, err := dsgoWebhookDrive(ctx, r)
	if err == nil && handled.Load() != int64(res.Count) {
		err = fmt.Errorf("handler saw %d events for %d notifications", handled.Load(), res.Count)
	}
	return res, err
}

// dsgoWebhookNotification is what a hand-written receiver decodes into.
type dsgoWebhookNotification struct {
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

func dsgoWebhookBaseline(ctx context.Context, _ struct{}) (Result, error) {
	var handled atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n dsgoWebhookNotification
		if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		handled.Add(int64(len(n.Event)))
		w.WriteHeader(http.StatusOK)
	})
	res, err := dsgoWebhookDrive(ctx, h)
	if err == nil && handled.Load() != int64(res.Count) {
		err = fmt.Errorf("handler saw %d events for %d notifications", handled.Load(), res.Count)
	}
	return res, err
}

// dsgoWebhookBody is notification i of run, in the wiki spelling, with
// distinct ids so that dedupe does real work on every request.
func dsgoWebhookBody(run, i int64) []byte {
	now := strconv.FormatInt(time.Now().Unix(), 10)
	id := strconv.FormatInt(run, 36) + "_" + strconv.FormatInt(i, 36)
	return []byte(`{"id":"not_` + id + `","resource_type":"notification","date":"` + now + `",` +
		`"consumer_id":"` + dsgoWebhookConsumer + `","provider_id":"` + dsgoWebhookProvider + `","subscription_id":"sub_123",` +
		`"description":"Record changed","event":[{"id":"eve_` + id + `","resource_type":"event","event_type":"Modified",` +
		`"date":"` + now + `","description":"Record changed","event_data":"Data record xyz has been modified by zyx"}]}`)
}

var dsgoWebhookRuns atomic.Int64

// dsgoWebhookDrive POSTs dsgoWebhookRequests notifications to h from
// dsgoWebhookClients keep-alive clients and times them. Any answer but 200
// fails the run: a fast wrong answer must not count.
func dsgoWebhookDrive(ctx context.Context, h http.Handler) (Result, error) {
	srv := httptest.NewServer(h)
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: dsgoWebhookClients, MaxConnsPerHost: dsgoWebhookClients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	run := dsgoWebhookRuns.Add(1)
	bodies := make([][]byte, dsgoWebhookRequests) // built up front: not the server's cost
	for i := range bodies {
		bodies[i] = dsgoWebhookBody(run, int64(i))
	}
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	fail := func(err error) { once.Do(func() { firstErr = err; cancel() }) }
	var wg sync.WaitGroup
	start := time.Now()
	for range dsgoWebhookClients {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(len(bodies)) || ctx.Err() != nil {
					return
				}
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, bytes.NewReader(bodies[i]))
				if err != nil {
					fail(err)
					return
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+dsgoWebhookToken)
				resp, err := client.Do(req)
				if err != nil {
					fail(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					fail(fmt.Errorf("request %d: HTTP %d", i, resp.StatusCode))
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return Result{}, firstErr
	}
	if err := ctx.Err(); err != nil {
		return Result{}, errors.Join(errors.New("interrupted"), err)
	}
	return Result{Count: len(bodies), Duration: elapsed}, nil
}
