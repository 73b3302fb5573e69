package notifykit

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// DedupeStore remembers which event ids were handled. The in-memory default
// is NewMemoryDedupeStore; a store shared through a database lets several
// consumer instances suppress duplicates together.
//
// The protocol has three steps so that a crash never turns a duplicate
// guard into a loss: Claim marks an id as in progress for a short lease,
// Commit marks it done for the full TTL after the handler succeeded, and
// Release forgets it after the handler failed, so the redelivery is
// handled. A claim whose holder died expires with its lease.
type DedupeStore interface {
	// Claim records id as in progress until lease elapses and reports true,
	// or reports false when id is already claimed or committed and not
	// expired. It must be atomic with respect to concurrent claims.
	Claim(ctx context.Context, id string, lease time.Duration) (bool, error)
	// Commit records id as handled until ttl elapses.
	Commit(ctx context.Context, id string, ttl time.Duration) error
	// Release forgets id.
	Release(ctx context.Context, id string) error
}

// DefaultDedupeLease bounds how long a claimed id suppresses its
// duplicates while its handler runs; after it a redelivery is handled even
// if the first handler never finished (its process died).
const DefaultDedupeLease = 5 * time.Minute

// Dedupe skips events whose ID was already handled successfully within ttl,
// and events whose ID another call is handling right now. A skipped event
// settles as a success. Failed events are released, so the transport's retry
// is handled normally. Events with an empty ID are never suppressed.
//
// A nil store means a new in-memory store of DefaultDedupeCapacity ids.
// Store errors fail open: the event is handled and the error is not
// returned, because handling a duplicate is safe under at-least-once while
// failing the delivery is not progress.
func Dedupe(store DedupeStore, ttl time.Duration) Middleware {
	if store == nil {
		store = NewMemoryDedupeStore(DefaultDedupeCapacity)
	}
	lease := min(DefaultDedupeLease, ttl)
	return func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, e Event) error {
			id := e.ID()
			if id == "" {
				return next.HandleEvent(ctx, e)
			}
			fresh, err := store.Claim(ctx, id, lease)
			if err == nil && !fresh {
				return nil
			}
			claimed := err == nil
			herr := next.HandleEvent(ctx, e)
			if !claimed {
				return herr
			}
			// The event was settled by the handler already; the store update
			// must not be lost to a caller cancelling right after.
			sctx := context.WithoutCancel(ctx)
			if herr != nil {
				_ = store.Release(sctx, id)
				return herr
			}
			_ = store.Commit(sctx, id, ttl)
			return nil
		})
	}
}

// DefaultDedupeCapacity is the number of ids the default in-memory store
// keeps at most.
const DefaultDedupeCapacity = 100_000

// MemoryDedupeStore is a bounded, expiring in-process DedupeStore. When full
// it forgets the oldest id, so memory stays bounded however many distinct
// ids flow through; the cost is that a duplicate older than the newest
// capacity ids is handled again, which at-least-once handlers tolerate.
type MemoryDedupeStore struct {
	mu       sync.Mutex
	capacity int
	now      func() time.Time
	byID     map[string]*list.Element
	order    *list.List // of *dedupeEntry, oldest write first
}

type dedupeEntry struct {
	id      string
	expires time.Time
}

// NewMemoryDedupeStore returns a store that keeps at most capacity ids
// (DefaultDedupeCapacity when capacity < 1).
func NewMemoryDedupeStore(capacity int) *MemoryDedupeStore {
	if capacity < 1 {
		capacity = DefaultDedupeCapacity
	}
	return &MemoryDedupeStore{
		capacity: capacity,
		now:      time.Now,
		byID:     make(map[string]*list.Element),
		order:    list.New(),
	}
}

// Claim implements DedupeStore.
func (s *MemoryDedupeStore) Claim(_ context.Context, id string, lease time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.sweep(now)
	if el, ok := s.byID[id]; ok && now.Before(el.Value.(*dedupeEntry).expires) {
		return false, nil
	}
	s.put(id, now.Add(lease))
	return true, nil
}

// Commit implements DedupeStore.
func (s *MemoryDedupeStore) Commit(_ context.Context, id string, ttl time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.put(id, s.now().Add(ttl))
	return nil
}

// Release implements DedupeStore.
func (s *MemoryDedupeStore) Release(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.byID[id]; ok {
		s.order.Remove(el)
		delete(s.byID, id)
	}
	return nil
}

// Len reports how many ids the store holds, expired ones not yet swept
// included.
func (s *MemoryDedupeStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byID)
}

// put must be called with s.mu held. A rewritten id moves to the back, so
// the list stays in write order and the front is the best eviction victim.
func (s *MemoryDedupeStore) put(id string, expires time.Time) {
	if el, ok := s.byID[id]; ok {
		el.Value.(*dedupeEntry).expires = expires
		s.order.MoveToBack(el)
		return
	}
	for len(s.byID) >= s.capacity {
		s.evict(s.order.Front())
	}
	s.byID[id] = s.order.PushBack(&dedupeEntry{id: id, expires: expires})
}

// sweep drops expired entries from the front. Entries with different TTLs
// may leave an expired one behind a live one; capacity still bounds them.
func (s *MemoryDedupeStore) sweep(now time.Time) {
	for el := s.order.Front(); el != nil && !now.Before(el.Value.(*dedupeEntry).expires); el = s.order.Front() {
		s.evict(el)
	}
}

func (s *MemoryDedupeStore) evict(el *list.Element) {
	s.order.Remove(el)
	delete(s.byID, el.Value.(*dedupeEntry).id)
}
