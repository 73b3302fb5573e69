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
	"os"
	"strconv"
	"strings"
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
		Setup:    dsgoWebhookWarmUp,
		SDK:      dsgoWebhookSDK,
		Baseline: dsgoWebhookBaseline,
	})
}

// dsgoWebhookWarmUp runs both sides briefly before anything is measured:
// the process's first run otherwise pays for heap growth and connection
// set-up, and the runner always starts with the SDK side.
func dsgoWebhookWarmUp(ctx context.Context) (struct{}, func(), error) {
	for _, f := range []func(context.Context, int) (Result, error){dsgoWebhookSDKN, dsgoWebhookBaselineN} {
		if _, err := f(ctx, dsgoWebhookRequests); err != nil {
			return struct{}{}, nil, fmt.Errorf("warm-up: %w", err)
		}
	}
	return struct{}{}, nil, nil
}

const (
	dsgoWebhookRequests = 40_000
	dsgoWebhookClients  = 16
	dsgoWebhookToken    = "bench-webhook-token"
	dsgoWebhookConsumer = "EU.EORI.NL000123456"
	dsgoWebhookProvider = "EU.EORI.NL000345678"
)

func dsgoWebhookSDK(ctx context.Context, _ struct{}) (Result, error) {
	return dsgoWebhookSDKN(ctx, dsgoWebhookRequests)
}

func dsgoWebhookBaseline(ctx context.Context, _ struct{}) (Result, error) {
	return dsgoWebhookBaselineN(ctx, dsgoWebhookRequests)
}

func dsgoWebhookSDKN(ctx context.Context, n int) (Result, error) {
	r, err := dsgo.NewReceiver(dsgoWebhookConsumer, dsgo.StaticBearer(dsgoWebhookToken))
	if err != nil {
		return Result{}, err
	}
	var handled atomic.Int64
	r.OnEvent(func(context.Context, *dsgo.Event) error { handled.Add(1); return nil })
	res, err := dsgoWebhookDrive(ctx, r, n)
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

func dsgoWebhookBaselineN(ctx context.Context, n int) (Result, error) {
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
	res, err := dsgoWebhookDrive(ctx, h, n)
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

// dsgoWebhookDrive POSTs n notifications to h from
// dsgoWebhookClients keep-alive clients and times them. Any answer but 200
// fails the run: a fast wrong answer must not count.
func dsgoWebhookDrive(ctx context.Context, h http.Handler, n int) (Result, error) {
	srv := httptest.NewServer(h)
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: dsgoWebhookClients, MaxConnsPerHost: dsgoWebhookClients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	run := dsgoWebhookRuns.Add(1)
	bodies := make([][]byte, n) // built up front: not the server's cost
	for i := range bodies {
		bodies[i] = dsgoWebhookBody(run, int64(i))
	}
	cpu0, cpuOK := dsgoWebhookCPU()
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
	res := Result{Count: len(bodies), Duration: elapsed}
	if cpu1, ok := dsgoWebhookCPU(); ok && cpuOK {
		// CPU time is what neighbours on a shared machine disturb least;
		// it includes the load generator, which is the same for both sides.
		res.Notes = []string{fmt.Sprintf("process CPU %.1f µs/request", float64(cpu1-cpu0)/float64(time.Microsecond)/float64(len(bodies)))}
	}
	return res, nil
}

// dsgoWebhookCPU returns the process's user+system CPU time from
// /proc/self/stat (Linux; USER_HZ is 100 there), or false elsewhere.
func dsgoWebhookCPU() (time.Duration, bool) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, false
	}
	// Fields after the command name, which is in parentheses and may
	// contain spaces: state is field 3, utime 14, stime 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(ut+st) * 10 * time.Millisecond, true
}
