package dsgo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/notifykit/notifykit/internal/backoff"
)

// userAgent is sent on every request.
const userAgent = "notifykit/0.1"

// maxResponseBody bounds a success body the client decodes.
const maxResponseBody = 16 << 20

// Client calls a DSGO provider's API. Its Subscriptions field holds the
// /subscriptions operations. A Client is safe for concurrent use.
type Client struct {
	// Subscriptions are the /subscriptions operations.
	Subscriptions *Subscriptions

	base   *url.URL
	tokens TokenSource
	o      options
}

// NewClient returns a client for the provider API at baseURL (the URL that
// /subscriptions is relative to, e.g. "https://provider.example/api").
//
// Authentication: WithCredentials (iSHARE client assertion → access token,
// cached), or WithTokenSource. Without either, requests carry no
// Authorization header. Other options: WithTokenURL, WithScope,
// WithHTTPClient, WithRetry, WithMaxRetryWait, WithLogger, WithClock.
func NewClient(baseURL string, opts ...Option) (*Client, error) {
	base, err := url.Parse(baseURL)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, optErr("base URL must be an absolute http(s) URL")
	}
	base.Path = strings.TrimSuffix(base.Path, "/")
	o, err := applyOptions(opts)
	if err != nil {
		return nil, err
	}
	c := &Client{base: base, o: o, tokens: o.tokenSource}
	if c.tokens == nil && o.creds != nil {
		tokenURL := o.tokenURL
		if tokenURL == "" {
			tokenURL = base.String() + "/connect/token"
		}
		ts, err := NewISHARETokenSource(tokenURL, o.serverID, o.creds, opts...)
		if err != nil {
			return nil, err
		}
		c.tokens = ts
	}
	c.Subscriptions = &Subscriptions{c: c}
	return c, nil
}

// TokenSource returns the client's token source (nil without
// authentication).
func (c *Client) TokenSource() TokenSource { return c.tokens }

// do sends method path with body (JSON-encoded unless nil) and returns the
// response when its status is one of want; any other answer becomes an
// error. The caller closes the body.
//
// Retries: 429 and 503 are retried up to the WithRetry limit, honouring
// Retry-After; a 401 is retried once with a fresh token.
func (c *Client) do(ctx context.Context, method, path string, body any, want ...int) (*http.Response, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, fmt.Errorf("dsgo: encode request: %w", err)
		}
	}
	u := c.base.String() + path
	refreshed := false
	for attempt := 1; ; attempt++ {
		resp, token, err := c.send(ctx, method, u, payload)
		if err != nil {
			// A network failure on an idempotent request is retried; a
			// POST may have been processed, so it is not.
			if ctx.Err() == nil && method != http.MethodPost && !errors.Is(err, ErrToken) && attempt < c.o.retryMax {
				c.o.logger.Debug("dsgo: retrying after network error", "method", method, "err", err)
				if serr := backoff.Sleep(ctx, c.o.retryBackoff(attempt)); serr != nil {
					return nil, serr
				}
				continue
			}
			return nil, err
		}
		for _, w := range want {
			if resp.StatusCode == w {
				return resp, nil
			}
		}
		switch {
		case resp.StatusCode == http.StatusUnauthorized && !refreshed && token != "":
			if inv, ok := c.tokens.(TokenInvalidator); ok {
				drainClose(resp.Body)
				inv.Invalidate(token)
				refreshed = true
				attempt--
				continue
			}
		case (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) && attempt < c.o.retryMax:
			wait, ok := c.retryWait(resp.Header.Get("Retry-After"), attempt)
			if ok {
				drainClose(resp.Body)
				c.o.logger.Debug("dsgo: retrying", "method", method, "status", resp.StatusCode, "wait", wait)
				if err := backoff.Sleep(ctx, wait); err != nil {
					return nil, err
				}
				continue
			}
		}
		apiErr := newAPIError(resp)
		drainClose(resp.Body)
		return nil, apiErr
	}
}

func (c *Client) send(ctx context.Context, method, u string, payload []byte) (*http.Response, string, error) {
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, "", fmt.Errorf("dsgo: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	var token string
	if c.tokens != nil {
		if token, err = c.tokens.Token(ctx); err != nil {
			return nil, "", err
		}
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.o.httpClient.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("dsgo: %s %s: %w", method, redactURL(u), innerNetError(err))
	}
	return resp, token, nil
}

// retryWait returns how long to wait before the next attempt: Retry-After
// (seconds or HTTP date) when present, the backoff otherwise. It reports
// false when the server asks for longer than the configured maximum.
func (c *Client) retryWait(h string, attempt int) (time.Duration, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return c.o.retryBackoff(attempt), true
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(h, 10, 64); err == nil {
		d = time.Duration(max(secs, 0)) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = max(t.Sub(c.o.now()), 0)
	} else {
		d = c.o.retryBackoff(attempt)
	}
	return d, d <= c.o.maxRetryWait
}

// decodeBody decodes a bounded JSON success body into dst.
func decodeBody(resp *http.Response, dst any) error {
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil {
		return fmt.Errorf("dsgo: read response: %w", err)
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("%w: %s response: %v", ErrDecode, resp.Request.Method, err)
	}
	return nil
}
