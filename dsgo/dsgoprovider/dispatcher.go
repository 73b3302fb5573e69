package dsgoprovider

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/notifykit/notifykit/dsgo"
)

// DeliveryError reports a notification that will not be delivered: the
// webhook refused it permanently or the attempts ran out. It goes to
// OnError and is recorded in the store.
type DeliveryError struct {
	NotificationID string
	SubscriptionID string
	Attempts       int
	StatusCode     int // last HTTP status, 0 if none
	Err            error
}

// Error describes the failed delivery.
func (e *DeliveryError) Error() string {
	return fmt.Sprintf("dsgoprovider: notification %s for subscription %s not delivered after %d attempt(s): %v",
		e.NotificationID, e.SubscriptionID, e.Attempts, e.Err)
}

// Unwrap returns the last attempt's error.
func (e *DeliveryError) Unwrap() error { return e.Err }

// userAgent is sent with every notification.
const userAgent = "notifykit/0.1"

// Run delivers queued notifications until ctx ends, and deactivates
// subscriptions whose end_date passed. It wakes on Publish and otherwise
// every poll interval. When ctx ends it lets attempts in flight finish
// (each is bounded by the attempt timeout) and returns nil. Store errors go
// to OnError and are retried on the next round.
func (s *Server) Run(ctx context.Context) error {
	t := time.NewTicker(s.o.poll)
	defer t.Stop()
	for {
		if _, err := s.store.ExpireSubscriptions(ctx, s.o.now()); err != nil && ctx.Err() == nil {
			s.o.onError(fmt.Errorf("dsgoprovider: expire subscriptions: %w", err))
		}
		for ctx.Err() == nil {
			n, err := s.DispatchOnce(ctx)
			if err != nil {
				if ctx.Err() == nil {
					s.o.onError(fmt.Errorf("dsgoprovider: dispatch: %w", err))
				}
				break
			}
			if n < s.batch() {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.wake:
		}
	}
}

func (s *Server) batch() int { return 4 * s.o.concurrency }

// DispatchOnce claims the deliveries due now (up to four times the
// concurrency), attempts each once, records the outcomes, and returns how
// many it attempted. Run calls it in a loop; tests and cron-style setups
// may call it directly.
func (s *Server) DispatchOnce(ctx context.Context) (int, error) {
	lease := 2*s.o.timeout + 30*time.Second
	ds, err := s.store.ClaimDeliveries(ctx, s.o.now(), lease, s.batch())
	if err != nil {
		return 0, err
	}
	sem := make(chan struct{}, s.o.concurrency)
	var wg sync.WaitGroup
	for i := range ds {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			// Started attempts finish even when ctx ends: their outcome
			// must be recorded, and each is bounded by the timeout.
			s.attempt(context.WithoutCancel(ctx), &ds[i])
		})
	}
	wg.Wait()
	return len(ds), nil
}

// attempt makes one delivery attempt and records it.
func (s *Server) attempt(ctx context.Context, d *Delivery) {
	sub, err := s.store.GetSubscription(ctx, d.SubscriptionID)
	if err != nil && !errors.Is(err, dsgo.ErrNotFound) {
		s.o.onError(fmt.Errorf("dsgoprovider: load subscription %s: %w", d.SubscriptionID, err))
		return // the claim expires and the delivery is tried again
	}
	now := s.o.now()
	if sub == nil || sub.Status != dsgo.StatusActive {
		d.State, d.DoneAt, d.LastError = DeliveryCancelled, now, "subscription no longer active"
		s.complete(ctx, d, nil)
		return
	}

	start := time.Now()
	status, retryAfter, err := s.post(ctx, d)
	a := &Attempt{NotificationID: d.NotificationID, Number: d.Attempts + 1, At: now, Duration: time.Since(start), StatusCode: status}
	d.Attempts++
	d.LastStatus = status
	if err == nil {
		d.State, d.DoneAt, d.LastError = DeliveryDelivered, s.o.now(), ""
		s.o.logger.Debug("dsgoprovider: delivered", "notification", d.NotificationID, "status", status)
		s.complete(ctx, d, a)
		return
	}
	a.Error, d.LastError = err.Error(), err.Error()
	if retryable(status, err) && d.Attempts < s.o.maxAttempts {
		wait := max(s.o.backoff(d.Attempts), min(retryAfter, time.Hour))
		d.NextAttempt = s.o.now().Add(wait)
		s.o.logger.Info("dsgoprovider: delivery failed, will retry", "notification", d.NotificationID,
			"attempt", d.Attempts, "status", status, "err", err, "retry_in", wait)
		s.complete(ctx, d, a)
		return
	}
	d.State, d.DoneAt = DeliveryFailed, s.o.now()
	s.o.logger.Error("dsgoprovider: delivery failed for good", "notification", d.NotificationID,
		"attempts", d.Attempts, "status", status, "err", err)
	s.complete(ctx, d, a)
	s.o.onError(&DeliveryError{NotificationID: d.NotificationID, SubscriptionID: d.SubscriptionID,
		Attempts: d.Attempts, StatusCode: status, Err: err})
}

func (s *Server) complete(ctx context.Context, d *Delivery, a *Attempt) {
	if err := s.store.CompleteAttempt(ctx, d, a); err != nil {
		s.o.onError(fmt.Errorf("dsgoprovider: record attempt of %s: %w", d.NotificationID, err))
	}
}

// errStatus is a non-2xx answer.
type errStatus int

func (e errStatus) Error() string { return "HTTP " + strconv.Itoa(int(e)) }

// post sends the notification and returns the status, the Retry-After
// delay (0 if none) and an error for anything but 2xx.
func (s *Server) post(ctx context.Context, d *Delivery) (int, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, s.o.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.WebhookURL, bytes.NewReader(d.Body))
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %v", errPermanent, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if err := s.o.webhookAuth.Authorize(ctx, req, d); err != nil {
		return 0, 0, fmt.Errorf("webhook credentials: %w", err)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, 0, redactURLError(err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, 0, nil
	}
	if resp.StatusCode == http.StatusUnauthorized {
		s.o.webhookAuth.Refused(d, req)
	}
	return resp.StatusCode, parseRetryAfter(resp.Header.Get("Retry-After"), s.o.now()), errStatus(resp.StatusCode)
}

var errPermanent = errors.New("permanent")

// retryable: network errors, 401 (credentials are renewed), 408, 429 and
// 5xx are retried; other answers and refused targets are not.
func retryable(status int, err error) bool {
	if errors.Is(err, errPermanent) || errors.Is(err, ErrForbiddenTarget) {
		return false
	}
	if status == 0 {
		return true
	}
	return status == http.StatusUnauthorized || status == http.StatusRequestTimeout ||
		status == http.StatusTooManyRequests || status >= 500
}

func parseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if secs, err := strconv.Atoi(h); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// redactURLError drops the query and user info from the URL that
// net/http puts into its errors: webhook URLs often carry a secret there,
// and these errors are stored and reported.
func redactURLError(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	u, perr := url.Parse(ue.URL)
	if perr != nil {
		return fmt.Errorf("%s webhook: %w", ue.Op, ue.Err)
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return &url.Error{Op: ue.Op, URL: u.String(), Err: ue.Err}
}
