package dsgoprovider

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/notifykit/notifykit/dsgo"
)

// MemoryStore is a Store in process memory, for tests and single-instance
// setups that can lose the outbox on restart.
type MemoryStore struct {
	mu         sync.Mutex
	subs       map[string]dsgo.Subscription
	deliveries map[string]*Delivery
	attempts   map[string][]Attempt
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{subs: map[string]dsgo.Subscription{}, deliveries: map[string]*Delivery{}, attempts: map[string][]Attempt{}}
}

var _ Store = (*MemoryStore)(nil)

// CreateSubscription implements Store.
func (m *MemoryStore) CreateSubscription(_ context.Context, s *dsgo.Subscription) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.subs[s.ID]; ok {
		return fmt.Errorf("%w: subscription %s exists", ErrConflict, s.ID)
	}
	m.subs[s.ID] = cloneSub(*s)
	return nil
}

// GetSubscription implements Store.
func (m *MemoryStore) GetSubscription(_ context.Context, id string) (*dsgo.Subscription, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.subs[id]
	if !ok {
		return nil, fmt.Errorf("%w: subscription %s", dsgo.ErrNotFound, id)
	}
	s = cloneSub(s)
	return &s, nil
}

// ListSubscriptions implements Store.
func (m *MemoryStore) ListSubscriptions(_ context.Context, consumerID string) ([]dsgo.Subscription, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []dsgo.Subscription{}
	for _, s := range m.subs {
		if consumerID == "" || s.ConsumerID == consumerID {
			out = append(out, cloneSub(s))
		}
	}
	sortSubs(out)
	return out, nil
}

// DeactivateSubscription implements Store.
func (m *MemoryStore) DeactivateSubscription(_ context.Context, id string, at time.Time) (*dsgo.Subscription, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.subs[id]
	if !ok {
		return nil, fmt.Errorf("%w: subscription %s", dsgo.ErrNotFound, id)
	}
	if err := deactivate(&s, at); err != nil {
		return nil, err
	}
	m.subs[id] = s
	s = cloneSub(s)
	return &s, nil
}

// ExpireSubscriptions implements Store.
func (m *MemoryStore) ExpireSubscriptions(_ context.Context, now time.Time) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ids []string
	for id, s := range m.subs {
		if expired(&s, now) {
			s.Status = dsgo.StatusInactive
			m.subs[id] = s
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// EnqueueDeliveries implements Store.
func (m *MemoryStore) EnqueueDeliveries(_ context.Context, ds []Delivery) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range ds {
		if _, ok := m.deliveries[d.NotificationID]; ok {
			continue
		}
		d := newPending(d)
		m.deliveries[d.NotificationID] = &d
	}
	return nil
}

// ClaimDeliveries implements Store.
func (m *MemoryStore) ClaimDeliveries(_ context.Context, now time.Time, lease time.Duration, limit int) ([]Delivery, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var due []*Delivery
	for _, d := range m.deliveries {
		if claimable(d, now) {
			due = append(due, d)
		}
	}
	sortDue(due)
	if len(due) > limit {
		due = due[:limit]
	}
	out := make([]Delivery, 0, len(due))
	for _, d := range due {
		d.ClaimToken, d.ClaimedUntil = newClaimToken(), now.Add(lease)
		out = append(out, cloneDelivery(*d))
	}
	return out, nil
}

// CompleteAttempt implements Store.
func (m *MemoryStore) CompleteAttempt(_ context.Context, d *Delivery, a *Attempt) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.deliveries[d.NotificationID]
	if !ok {
		return fmt.Errorf("%w: delivery %s", dsgo.ErrNotFound, d.NotificationID)
	}
	if cur.ClaimToken == "" || cur.ClaimToken != d.ClaimToken {
		return fmt.Errorf("%w: %s", ErrClaimLost, d.NotificationID)
	}
	applyOutcome(cur, d)
	if a != nil {
		m.attempts[d.NotificationID] = append(m.attempts[d.NotificationID], *a)
	}
	return nil
}

// GetDelivery implements Store.
func (m *MemoryStore) GetDelivery(_ context.Context, id string) (*Delivery, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.deliveries[id]
	if !ok {
		return nil, fmt.Errorf("%w: delivery %s", dsgo.ErrNotFound, id)
	}
	c := cloneDelivery(*d)
	return &c, nil
}

// ListDeliveries implements Store.
func (m *MemoryStore) ListDeliveries(_ context.Context, subscriptionID string) ([]Delivery, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []Delivery{}
	for _, d := range m.deliveries {
		if subscriptionID == "" || d.SubscriptionID == subscriptionID {
			out = append(out, cloneDelivery(*d))
		}
	}
	sortDeliveries(out)
	return out, nil
}

// Attempts implements Store.
func (m *MemoryStore) Attempts(_ context.Context, id string) ([]Attempt, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Attempt{}, m.attempts[id]...), nil
}

// Close implements Store; it keeps the data.
func (m *MemoryStore) Close() error { return nil }

// --- rules shared by the embedded stores ---

func deactivate(s *dsgo.Subscription, at time.Time) error {
	if s.Status != dsgo.StatusActive {
		return fmt.Errorf("%w: subscription %s is %s", dsgo.ErrNotActive, s.ID, s.Status)
	}
	s.Status = dsgo.StatusInactive
	if s.EndDate.IsZero() || s.EndDate.After(at) {
		s.EndDate = dsgo.Unix(at)
	}
	return nil
}

func expired(s *dsgo.Subscription, now time.Time) bool {
	return s.Status == dsgo.StatusActive && !s.EndDate.IsZero() && !s.EndDate.After(now)
}

func newPending(d Delivery) Delivery {
	d.Body = append([]byte(nil), d.Body...)
	d.State, d.Attempts, d.LastStatus, d.LastError = DeliveryPending, 0, 0, ""
	d.ClaimToken, d.ClaimedUntil, d.DoneAt = "", time.Time{}, time.Time{}
	if d.NextAttempt.IsZero() {
		d.NextAttempt = d.CreatedAt
	}
	return d
}

func claimable(d *Delivery, now time.Time) bool {
	return d.State == DeliveryPending && !d.NextAttempt.After(now) && (d.ClaimToken == "" || !now.Before(d.ClaimedUntil))
}

func applyOutcome(cur, d *Delivery) {
	cur.State, cur.Attempts, cur.NextAttempt = d.State, d.Attempts, d.NextAttempt
	cur.LastStatus, cur.LastError, cur.DoneAt = d.LastStatus, d.LastError, d.DoneAt
	cur.ClaimToken, cur.ClaimedUntil = "", time.Time{}
}

func sortSubs(s []dsgo.Subscription) {
	slices.SortFunc(s, func(a, b dsgo.Subscription) int {
		return cmp.Or(a.CreatedDate.Compare(b.CreatedDate.Time), cmp.Compare(a.ID, b.ID))
	})
}

func sortDue(ds []*Delivery) {
	slices.SortFunc(ds, func(a, b *Delivery) int {
		return cmp.Or(a.NextAttempt.Compare(b.NextAttempt), cmp.Compare(a.NotificationID, b.NotificationID))
	})
}

func sortDeliveries(ds []Delivery) {
	slices.SortFunc(ds, func(a, b Delivery) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.NotificationID, b.NotificationID))
	})
}

func cloneSub(s dsgo.Subscription) dsgo.Subscription {
	s.EventTypes = append([]string(nil), s.EventTypes...)
	if s.Extra != nil {
		e := make(map[string]json.RawMessage, len(s.Extra))
		for k, v := range s.Extra {
			e[k] = append(json.RawMessage(nil), v...)
		}
		s.Extra = e
	}
	return s
}

func cloneDelivery(d Delivery) Delivery {
	d.Body = append([]byte(nil), d.Body...)
	return d
}
