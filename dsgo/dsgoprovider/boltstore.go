package dsgoprovider

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/notifykit/notifykit/dsgo"
)

// BoltStore is a durable Store in one bbolt file: the embedded default for
// a provider that must not lose its outbox across restarts. One process
// holds the file at a time (bbolt locks it).
type BoltStore struct{ db *bolt.DB }

var _ Store = (*BoltStore)(nil)

var (
	bucketSubs       = []byte("subscriptions")
	bucketDeliveries = []byte("deliveries")
	bucketPending    = []byte("pending") // index: notification id of pending deliveries
	bucketAttempts   = []byte("attempts")
)

// OpenBoltStore opens or creates the store at path. It waits at most 5 s
// for another process to release the file.
func OpenBoltStore(path string) (*BoltStore, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("dsgoprovider: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketSubs, bucketDeliveries, bucketPending, bucketAttempts} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("dsgoprovider: init %s: %w", path, err)
	}
	return &BoltStore{db: db}, nil
}

// Close implements Store.
func (b *BoltStore) Close() error { return b.db.Close() }

func getSub(tx *bolt.Tx, id string) (*dsgo.Subscription, error) {
	v := tx.Bucket(bucketSubs).Get([]byte(id))
	if v == nil {
		return nil, fmt.Errorf("%w: subscription %s", dsgo.ErrNotFound, id)
	}
	var s dsgo.Subscription
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, fmt.Errorf("dsgoprovider: stored subscription %s: %w", id, err)
	}
	return &s, nil
}

func putSub(tx *bolt.Tx, s *dsgo.Subscription) error {
	v, err := s.Encode(dsgo.DialectWiki)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketSubs).Put([]byte(s.ID), v)
}

// CreateSubscription implements Store.
func (b *BoltStore) CreateSubscription(_ context.Context, s *dsgo.Subscription) error {
	return b.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketSubs).Get([]byte(s.ID)) != nil {
			return fmt.Errorf("%w: subscription %s exists", ErrConflict, s.ID)
		}
		return putSub(tx, s)
	})
}

// GetSubscription implements Store.
func (b *BoltStore) GetSubscription(_ context.Context, id string) (s *dsgo.Subscription, err error) {
	err = b.db.View(func(tx *bolt.Tx) error {
		s, err = getSub(tx, id)
		return err
	})
	return s, err
}

// ListSubscriptions implements Store.
func (b *BoltStore) ListSubscriptions(_ context.Context, consumerID string) ([]dsgo.Subscription, error) {
	out := []dsgo.Subscription{}
	err := b.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSubs).ForEach(func(k, v []byte) error {
			var s dsgo.Subscription
			if err := json.Unmarshal(v, &s); err != nil {
				return fmt.Errorf("dsgoprovider: stored subscription %s: %w", k, err)
			}
			if consumerID == "" || s.ConsumerID == consumerID {
				out = append(out, s)
			}
			return nil
		})
	})
	sortSubs(out)
	return out, err
}

// DeactivateSubscription implements Store.
func (b *BoltStore) DeactivateSubscription(_ context.Context, id string, at time.Time) (s *dsgo.Subscription, err error) {
	err = b.db.Update(func(tx *bolt.Tx) error {
		if s, err = getSub(tx, id); err != nil {
			return err
		}
		if err := deactivate(s, at); err != nil {
			return err
		}
		return putSub(tx, s)
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// ExpireSubscriptions implements Store.
func (b *BoltStore) ExpireSubscriptions(_ context.Context, now time.Time) ([]string, error) {
	var ids []string
	err := b.db.Update(func(tx *bolt.Tx) error {
		var due []*dsgo.Subscription
		err := tx.Bucket(bucketSubs).ForEach(func(k, v []byte) error {
			var s dsgo.Subscription
			if err := json.Unmarshal(v, &s); err != nil {
				return err
			}
			if expired(&s, now) {
				due = append(due, &s)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, s := range due {
			s.Status = dsgo.StatusInactive
			if err := putSub(tx, s); err != nil {
				return err
			}
			ids = append(ids, s.ID)
		}
		return nil
	})
	return ids, err
}

func getDelivery(tx *bolt.Tx, id string) (*Delivery, error) {
	v := tx.Bucket(bucketDeliveries).Get([]byte(id))
	if v == nil {
		return nil, fmt.Errorf("%w: delivery %s", dsgo.ErrNotFound, id)
	}
	var d Delivery
	if err := json.Unmarshal(v, &d); err != nil {
		return nil, fmt.Errorf("dsgoprovider: stored delivery %s: %w", id, err)
	}
	return &d, nil
}

func putDelivery(tx *bolt.Tx, d *Delivery) error {
	v, err := json.Marshal(d)
	if err != nil {
		return err
	}
	key := []byte(d.NotificationID)
	if err := tx.Bucket(bucketDeliveries).Put(key, v); err != nil {
		return err
	}
	if d.State == DeliveryPending {
		return tx.Bucket(bucketPending).Put(key, nil)
	}
	return tx.Bucket(bucketPending).Delete(key)
}

// EnqueueDeliveries implements Store.
func (b *BoltStore) EnqueueDeliveries(_ context.Context, ds []Delivery) error {
	return b.db.Update(func(tx *bolt.Tx) error {
		for _, d := range ds {
			if tx.Bucket(bucketDeliveries).Get([]byte(d.NotificationID)) != nil {
				continue
			}
			d := newPending(d)
			if err := putDelivery(tx, &d); err != nil {
				return err
			}
		}
		return nil
	})
}

// ClaimDeliveries implements Store. It scans only the pending index, so
// delivered history does not slow it down.
func (b *BoltStore) ClaimDeliveries(_ context.Context, now time.Time, lease time.Duration, limit int) ([]Delivery, error) {
	var out []Delivery
	err := b.db.Update(func(tx *bolt.Tx) error {
		var due []*Delivery
		err := tx.Bucket(bucketPending).ForEach(func(k, _ []byte) error {
			d, err := getDelivery(tx, string(k))
			if err != nil {
				return err
			}
			if claimable(d, now) {
				due = append(due, d)
			}
			return nil
		})
		if err != nil {
			return err
		}
		sortDue(due)
		if len(due) > limit {
			due = due[:limit]
		}
		for _, d := range due {
			d.ClaimToken, d.ClaimedUntil = newClaimToken(), now.Add(lease)
			if err := putDelivery(tx, d); err != nil {
				return err
			}
			out = append(out, *d)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CompleteAttempt implements Store.
func (b *BoltStore) CompleteAttempt(_ context.Context, d *Delivery, a *Attempt) error {
	return b.db.Update(func(tx *bolt.Tx) error {
		cur, err := getDelivery(tx, d.NotificationID)
		if err != nil {
			return err
		}
		if cur.ClaimToken == "" || cur.ClaimToken != d.ClaimToken {
			return fmt.Errorf("%w: %s", ErrClaimLost, d.NotificationID)
		}
		applyOutcome(cur, d)
		if err := putDelivery(tx, cur); err != nil {
			return err
		}
		if a == nil {
			return nil
		}
		v, err := json.Marshal(a)
		if err != nil {
			return err
		}
		ab := tx.Bucket(bucketAttempts)
		seq, err := ab.NextSequence()
		if err != nil {
			return err
		}
		return ab.Put(attemptKey(d.NotificationID, seq), v)
	})
}

func attemptKey(id string, seq uint64) []byte {
	k := make([]byte, 0, len(id)+9)
	k = append(k, id...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, seq)
}

// GetDelivery implements Store.
func (b *BoltStore) GetDelivery(_ context.Context, id string) (d *Delivery, err error) {
	err = b.db.View(func(tx *bolt.Tx) error {
		d, err = getDelivery(tx, id)
		return err
	})
	return d, err
}

// ListDeliveries implements Store.
func (b *BoltStore) ListDeliveries(_ context.Context, subscriptionID string) ([]Delivery, error) {
	out := []Delivery{}
	err := b.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDeliveries).ForEach(func(k, v []byte) error {
			var d Delivery
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("dsgoprovider: stored delivery %s: %w", k, err)
			}
			if subscriptionID == "" || d.SubscriptionID == subscriptionID {
				out = append(out, d)
			}
			return nil
		})
	})
	sortDeliveries(out)
	return out, err
}

// Attempts implements Store.
func (b *BoltStore) Attempts(_ context.Context, id string) ([]Attempt, error) {
	out := []Attempt{}
	prefix := append([]byte(id), 0)
	err := b.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketAttempts).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var a Attempt
			if err := json.Unmarshal(v, &a); err != nil {
				return err
			}
			out = append(out, a)
		}
		return nil
	})
	return out, err
}
