package comnorm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/notifykit/notifykit/internal/backoff"
)

const (
	userAgent = "notifykit/0.1"
	// maxResponse bounds a decoded success response (a peek of many large
	// messages is the biggest legitimate one).
	maxResponse = 4 << 20
	// drainLimit is how much of an unread body is discarded so the
	// connection can be reused.
	drainLimit = 64 << 10
)

// defaultHTTPClient returns a client without an overall timeout (every
// request carries its own deadline) and with enough idle connections per host
// for a concurrent consumer to reuse them instead of reconnecting.
func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: t}
}

// request is one HTTP exchange, independent of who sends it.
type request struct {
	op      string
	method  string
	url     string
	header  map[string]string // sent with the exact spelling given
	body    []byte
	timeout time.Duration // per-request deadline; 0 = ctx only
}

// response is a successful (2xx) exchange or a 408 (which Peek treats as
// empty).
type response struct {
	status int
	body   []byte
}

type transport struct {
	hc        *http.Client
	userAgent string
	logger    *slog.Logger
}

// do sends r once. A non-2xx status other than 408 becomes *APIError.
// When ctx ends, ctx.Err() is returned instead of the transport's error.
func (t *transport) do(outer context.Context, r request) (*response, error) {
	ctx := outer
	if r.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.timeout)
		defer cancel()
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, body)
	if err != nil {
		return nil, fmt.Errorf("comnorm: %s: %w", r.op, err)
	}
	for k, v := range r.header {
		req.Header[k] = []string{v}
	}
	req.Header.Set("User-Agent", t.userAgent)
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := t.hc.Do(req)
	if err != nil {
		if ctxErr := outer.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		// The url error names only the URL, which holds no credential.
		return nil, fmt.Errorf("comnorm: %s: %w", r.op, err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
		_ = resp.Body.Close()
	}()
	if resp.StatusCode/100 == 2 || resp.StatusCode == http.StatusRequestTimeout {
		b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
		if err != nil {
			if ctxErr := outer.Err(); ctxErr != nil {
				return nil, ctxErr
			}
			return nil, fmt.Errorf("comnorm: %s: reading response: %w", r.op, err)
		}
		if len(b) > maxResponse {
			return nil, fmt.Errorf("comnorm: %s: %w: response larger than %d bytes", r.op, ErrMalformedResponse, maxResponse)
		}
		return &response{status: resp.StatusCode, body: b}, nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return nil, &APIError{Op: r.op, StatusCode: resp.StatusCode, Body: b, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"))}
}

// doRetry repeats r on transient failures (transport errors, 5xx, 429) up
// to attempts times. Only idempotent requests and explicitly opted-in posts
// come here.
func (t *transport) doRetry(ctx context.Context, r request, attempts int, b backoff.Func) (*response, error) {
	for attempt := 1; ; attempt++ {
		resp, err := t.do(ctx, r)
		if err == nil || attempt >= attempts || ctx.Err() != nil || !retryable(err) {
			return resp, err
		}
		wait := b(attempt)
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.RetryAfter > wait {
			wait = apiErr.RetryAfter
		}
		// Only the operation and the error: neither carries a credential.
		t.logger.LogAttrs(ctx, slog.LevelDebug, "comnorm: retrying", slog.String("op", r.op),
			slog.Int("attempt", attempt), slog.Duration("wait", wait), slog.Any("err", err))
		if err := backoff.Sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// retryable reports whether err is worth another attempt. The caller has
// already checked its own context, so a timed-out single request (its
// per-request deadline) counts as transient.
func retryable(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.transient()
	}
	return !errors.Is(err, ErrMalformedResponse)
}
