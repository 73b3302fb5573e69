package dsgoprovider

import (
	"context"
	"errors"
	"time"

	"github.com/notifykit/notifykit/dsgo"
)

// ErrClaimLost is returned by Store.CompleteAttempt when the delivery's
// claim expired and another dispatcher (instance) claimed it since: the
// attempt's outcome is recorded by the new holder instead.
var ErrClaimLost = errors.New("dsgoprovider: delivery claim lost")

// ErrConflict is returned when creating a subscription or delivery whose id
// exists with different content.
var ErrConflict = errors.New("dsgoprovider: conflict")

// DeliveryState is where a notification's delivery stands.
type DeliveryState string

// Delivery states. Pending is the only non-terminal one.
const (
	DeliveryPending   DeliveryState = "pending"   // waiting for its (next) attempt
	DeliveryDelivered DeliveryState = "delivered" // the webhook answered 2xx
	DeliveryFailed    DeliveryState = "failed"    // permanent error or attempts exhausted
	DeliveryCancelled DeliveryState = "cancelled" // the subscription became inactive first
)

// Delivery is one notification on its way to one subscription's webhook:
// the outbox row. Body is the exact notification JSON, so every attempt
// sends the same bytes with the same notification id.
type Delivery struct {
	NotificationID string
	SubscriptionID string
	ConsumerID     string
	WebhookURL     string
	Body           []byte
	CreatedAt      time.Time

	State       DeliveryState
	Attempts    int       // attempts made so far
	NextAttempt time.Time // when a pending delivery is due
	LastStatus  int       // HTTP status of the last attempt, 0 if none
	LastError   string    // error of the last attempt, "" after success
	DoneAt      time.Time // when it reached a terminal state

	// ClaimToken and ClaimedUntil are set by ClaimDeliveries: the holder
	// of the token may record the attempt until the lease ends.
	ClaimToken   string
	ClaimedUntil time.Time
}

// Attempt is the record of one delivery attempt.
type Attempt struct {
	NotificationID string
	Number         int // 1-based
	At             time.Time
	Duration       time.Duration
	StatusCode     int    // 0 when no response arrived
	Error          string // "" on success
}

// Store holds subscriptions and the notification outbox. Implementations
// must be safe for concurrent use. The embedded implementations are
// NewMemoryStore and OpenBoltStore; a shared database store (several
// provider instances, one outbox) implements the same interface, and
// package storetest checks any implementation against the contract.
type Store interface {
	// CreateSubscription stores a new subscription (ID set by the caller).
	// An existing ID yields ErrConflict.
	CreateSubscription(ctx context.Context, s *dsgo.Subscription) error
	// GetSubscription returns a subscription or an error matching
	// dsgo.ErrNotFound.
	GetSubscription(ctx context.Context, id string) (*dsgo.Subscription, error)
	// ListSubscriptions returns the subscriptions of consumerID ("" for
	// all), oldest first (created_date, then id).
	ListSubscriptions(ctx context.Context, consumerID string) ([]dsgo.Subscription, error)
	// DeactivateSubscription moves an active subscription to inactive,
	// setting end_date to at when it had none or a later one, and returns
	// it. Errors: dsgo.ErrNotFound, dsgo.ErrNotActive (already inactive).
	// It must be atomic: of two concurrent calls one gets ErrNotActive.
	DeactivateSubscription(ctx context.Context, id string, at time.Time) (*dsgo.Subscription, error)
	// ExpireSubscriptions deactivates active subscriptions whose end_date
	// is at or before now and returns their ids.
	ExpireSubscriptions(ctx context.Context, now time.Time) ([]string, error)

	// EnqueueDeliveries adds pending deliveries (State, Attempts and claim
	// fields are reset by the store). Re-enqueueing an existing
	// NotificationID is a no-op, so a publisher may retry.
	EnqueueDeliveries(ctx context.Context, ds []Delivery) error
	// ClaimDeliveries returns up to limit pending deliveries due at now
	// (NextAttempt <= now) that are not claimed or whose claim expired,
	// oldest due first, each with a fresh ClaimToken valid until now+lease.
	// Concurrent callers never receive the same delivery with a live claim.
	ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Delivery, error)
	// CompleteAttempt records attempt a for the claimed delivery d and
	// stores d's State, Attempts, NextAttempt, LastStatus, LastError and
	// DoneAt, releasing the claim. It fails with ErrClaimLost when
	// d.ClaimToken is no longer the delivery's claim.
	CompleteAttempt(ctx context.Context, d *Delivery, a *Attempt) error
	// GetDelivery returns a delivery or an error matching dsgo.ErrNotFound.
	GetDelivery(ctx context.Context, notificationID string) (*Delivery, error)
	// ListDeliveries returns the deliveries of subscriptionID ("" for all),
	// oldest first.
	ListDeliveries(ctx context.Context, subscriptionID string) ([]Delivery, error)
	// Attempts returns the attempts recorded for a notification, in order.
	Attempts(ctx context.Context, notificationID string) ([]Attempt, error)
	// Close releases the store's resources.
	Close() error
}
