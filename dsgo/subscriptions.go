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
)

// Subscriptions are the /subscriptions operations of a provider. There is
// no Update: DSGO changes a subscription by deleting it and creating a new
// one.
type Subscriptions struct{ c *Client }

func subPath(id string) string { return "/subscriptions/" + url.PathEscape(id) }

// List returns the subscriptions visible to the caller, in any lifecycle
// phase (GET /subscriptions, 200).
func (s *Subscriptions) List(ctx context.Context) (*SubscriptionList, error) {
	return doJSON[SubscriptionList](ctx, s.c, http.MethodGet, "/subscriptions", nil, http.StatusOK)
}

// Get returns one subscription (GET /subscriptions/{id}, 200); 404 is
// ErrNotFound.
func (s *Subscriptions) Get(ctx context.Context, id string) (*Subscription, error) {
	if id == "" {
		return nil, fmt.Errorf("%w: empty subscription id", ErrInvalid)
	}
	return doJSON[Subscription](ctx, s.c, http.MethodGet, subPath(id), nil, http.StatusOK)
}

// Create subscribes (POST /subscriptions, 201) and returns the created
// object, status active.
func (s *Subscriptions) Create(ctx context.Context, req SubscriptionCreate) (*Subscription, error) {
	if len(req.EventTypes) == 0 || req.WebhookURL == "" {
		return nil, fmt.Errorf("%w: a subscription needs event types and a webhook URL", ErrInvalid)
	}
	return doJSON[Subscription](ctx, s.c, http.MethodPost, "/subscriptions", req, http.StatusCreated)
}

// Delete deactivates an active subscription (DELETE /subscriptions/{id};
// 200 without a body, 204 accepted). A provider answers 404 both for an
// unknown and for an already inactive subscription; 409 is ErrNotActive.
func (s *Subscriptions) Delete(ctx context.Context, id string) error {
	if id == "" {
		return fmt.Errorf("%w: empty subscription id", ErrInvalid)
	}
	resp, err := s.c.do(ctx, http.MethodDelete, subPath(id), nil, http.StatusOK, http.StatusNoContent)
	if err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusConflict {
			return fmt.Errorf("%w: %w", ErrNotActive, err)
		}
		return err
	}
	drainClose(resp.Body)
	return nil
}

// Test asks the provider to send a test notification to the subscription's
// webhook (POST /subscriptions/{id}/test, 202). It returns the event object
// the provider answers with, or nil if it sent none.
func (s *Subscriptions) Test(ctx context.Context, id string) (*Event, error) {
	if id == "" {
		return nil, fmt.Errorf("%w: empty subscription id", ErrInvalid)
	}
	resp, err := s.c.do(ctx, http.MethodPost, subPath(id)+"/test", nil, http.StatusAccepted, http.StatusOK)
	if err != nil {
		return nil, err
	}
	defer drainClose(resp.Body)
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil {
		return nil, fmt.Errorf("dsgo: read response: %w", err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	var e Event
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("%w: test response: %v", ErrDecode, err)
	}
	return &e, nil
}

// doJSON sends one request and decodes the JSON answer into a new T.
func doJSON[T any](ctx context.Context, c *Client, method, path string, body any, want int) (*T, error) {
	resp, err := c.do(ctx, method, path, body, want)
	if err != nil {
		return nil, err
	}
	defer drainClose(resp.Body)
	var v T
	if err := decodeBody(resp, &v); err != nil {
		return nil, err
	}
	return &v, nil
}
