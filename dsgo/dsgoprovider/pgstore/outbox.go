package pgstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/notifykit/notifykit/dsgo"
	"github.com/notifykit/notifykit/dsgo/dsgoprovider"
)

const deliveryColumns = `notification_id, subscription_id, consumer_id, webhook_url, body, created_at,
	state, attempts, next_attempt, last_status, last_error, done_at, claim_token, claimed_until`

// EnqueueDeliveries implements dsgoprovider.Store: one transaction, and an
// existing notification id is left as it is.
func (s *Store) EnqueueDeliveries(ctx context.Context, ds []dsgoprovider.Delivery) error {
	if len(ds) == 0 {
		return ctx.Err()
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, d := range ds {
			next := d.NextAttempt
			if next.IsZero() {
				next = d.CreatedAt
			}
			b.Queue(`INSERT INTO `+s.t.deliveries+` (notification_id, subscription_id, consumer_id, webhook_url,
				body, created_at, state, next_attempt) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
				ON CONFLICT (notification_id) DO NOTHING`,
				d.NotificationID, d.SubscriptionID, d.ConsumerID, d.WebhookURL, nonNil(d.Body), d.CreatedAt,
				string(dsgoprovider.DeliveryPending), next)
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("pgstore: enqueue deliveries: %w", err)
	}
	return nil
}

// ClaimDeliveries implements dsgoprovider.Store with FOR UPDATE SKIP
// LOCKED: concurrent claimers, on any instance, pass over each other's
// rows instead of waiting for them.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]dsgoprovider.Delivery, error) {
	if limit < 1 {
		return []dsgoprovider.Delivery{}, ctx.Err()
	}
	rows, err := s.pool.Query(ctx, `UPDATE `+s.t.deliveries+` d
		SET claim_token = 'claim_' || replace(gen_random_uuid()::text, '-', ''), claimed_until = $2
		FROM (SELECT notification_id FROM `+s.t.deliveries+`
			WHERE state = 'pending' AND next_attempt <= $1
			  AND (claim_token IS NULL OR claimed_until <= $1)
			ORDER BY next_attempt, notification_id
			LIMIT $3 FOR UPDATE SKIP LOCKED) c
		WHERE d.notification_id = c.notification_id
		RETURNING `+prefixed("d.", deliveryColumns), now, now.Add(lease), limit)
	if err != nil {
		return nil, fmt.Errorf("pgstore: claim deliveries: %w", err)
	}
	out, err := collectDeliveries(rows)
	if err != nil {
		return nil, fmt.Errorf("pgstore: claim deliveries: %w", err)
	}
	// RETURNING has no order; the contract wants oldest due first.
	slices.SortFunc(out, func(a, b dsgoprovider.Delivery) int {
		if c := a.NextAttempt.Compare(b.NextAttempt); c != 0 {
			return c
		}
		return strings.Compare(a.NotificationID, b.NotificationID)
	})
	return out, nil
}

// CompleteAttempt implements dsgoprovider.Store: the outcome is stored
// only while d's claim token is still the delivery's, and the attempt
// record is written in the same transaction.
func (s *Store) CompleteAttempt(ctx context.Context, d *dsgoprovider.Delivery, a *dsgoprovider.Attempt) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE `+s.t.deliveries+`
			SET state = $3, attempts = $4, next_attempt = $5, last_status = $6, last_error = $7, done_at = $8,
			    claim_token = NULL, claimed_until = NULL
			WHERE notification_id = $1 AND claim_token = $2`,
			d.NotificationID, d.ClaimToken, string(d.State), d.Attempts, d.NextAttempt,
			d.LastStatus, d.LastError, nullTime(d.DoneAt))
		if err != nil {
			return fmt.Errorf("pgstore: complete attempt: %w", err)
		}
		if tag.RowsAffected() == 0 {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+s.t.deliveries+` WHERE notification_id = $1)`,
				d.NotificationID).Scan(&exists); err != nil {
				return fmt.Errorf("pgstore: complete attempt: %w", err)
			}
			if !exists {
				return fmt.Errorf("%w: delivery %s", dsgo.ErrNotFound, d.NotificationID)
			}
			return fmt.Errorf("%w: %s", dsgoprovider.ErrClaimLost, d.NotificationID)
		}
		if a == nil {
			return nil
		}
		_, err = tx.Exec(ctx, `INSERT INTO `+s.t.attempts+` (notification_id, number, at, duration_us, status_code, error)
			VALUES ($1, $2, $3, $4, $5, $6)`,
			d.NotificationID, a.Number, a.At, a.Duration.Microseconds(), a.StatusCode, a.Error)
		if err != nil {
			return fmt.Errorf("pgstore: record attempt: %w", err)
		}
		return nil
	})
}

// GetDelivery implements dsgoprovider.Store.
func (s *Store) GetDelivery(ctx context.Context, notificationID string) (*dsgoprovider.Delivery, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+deliveryColumns+` FROM `+s.t.deliveries+` WHERE notification_id = $1`, notificationID)
	if err != nil {
		return nil, fmt.Errorf("pgstore: get delivery: %w", err)
	}
	ds, err := collectDeliveries(rows)
	if err != nil {
		return nil, fmt.Errorf("pgstore: get delivery: %w", err)
	}
	if len(ds) == 0 {
		return nil, fmt.Errorf("%w: delivery %s", dsgo.ErrNotFound, notificationID)
	}
	return &ds[0], nil
}

// ListDeliveries implements dsgoprovider.Store.
func (s *Store) ListDeliveries(ctx context.Context, subscriptionID string) ([]dsgoprovider.Delivery, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+deliveryColumns+` FROM `+s.t.deliveries+`
		WHERE $1 = '' OR subscription_id = $1 ORDER BY created_at, notification_id`, subscriptionID)
	if err != nil {
		return nil, fmt.Errorf("pgstore: list deliveries: %w", err)
	}
	out, err := collectDeliveries(rows)
	if err != nil {
		return nil, fmt.Errorf("pgstore: list deliveries: %w", err)
	}
	return out, nil
}

// Attempts implements dsgoprovider.Store.
func (s *Store) Attempts(ctx context.Context, notificationID string) ([]dsgoprovider.Attempt, error) {
	rows, err := s.pool.Query(ctx, `SELECT number, at, duration_us, status_code, error FROM `+s.t.attempts+`
		WHERE notification_id = $1 ORDER BY seq`, notificationID)
	if err != nil {
		return nil, fmt.Errorf("pgstore: attempts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (dsgoprovider.Attempt, error) {
		a := dsgoprovider.Attempt{NotificationID: notificationID}
		var us int64
		if err := r.Scan(&a.Number, &a.At, &us, &a.StatusCode, &a.Error); err != nil {
			return a, err
		}
		a.At = a.At.UTC()
		a.Duration = time.Duration(us) * time.Microsecond
		return a, nil
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: attempts: %w", err)
	}
	if out == nil {
		out = []dsgoprovider.Attempt{}
	}
	return out, nil
}

func collectDeliveries(rows pgx.Rows) ([]dsgoprovider.Delivery, error) {
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (dsgoprovider.Delivery, error) {
		var d dsgoprovider.Delivery
		var state string
		var done, claimedUntil *time.Time
		var token *string
		err := r.Scan(&d.NotificationID, &d.SubscriptionID, &d.ConsumerID, &d.WebhookURL, &d.Body, &d.CreatedAt,
			&state, &d.Attempts, &d.NextAttempt, &d.LastStatus, &d.LastError, &done, &token, &claimedUntil)
		if err != nil {
			return d, err
		}
		d.State = dsgoprovider.DeliveryState(state)
		d.CreatedAt, d.NextAttempt = d.CreatedAt.UTC(), d.NextAttempt.UTC()
		if done != nil {
			d.DoneAt = done.UTC()
		}
		if token != nil {
			d.ClaimToken = *token
		}
		if claimedUntil != nil {
			d.ClaimedUntil = claimedUntil.UTC()
		}
		return d, nil
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []dsgoprovider.Delivery{}
	}
	return out, nil
}

func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
