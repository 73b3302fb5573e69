package dsgo

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

// hashDedupe is the receiver's default dedupe store: bounded, expiring, and
// free of pointers. A webhook that dedupes remembers every id for a day, and
// a store built from strings, list elements and pointer maps makes the
// garbage collector rescan that whole history over and over; measured in
// the dsgo-webhook benchmark, that cost more CPU per request than the
// dedupe itself. Here ids are kept as 128-bit hashes (two independent
// maphash seeds: a false "duplicate" would need a 128-bit collision) in
// maps and rings of plain integers, which the collector does not scan.
//
// It implements notifykit.DedupeStore. Capacity is split over shards so
// concurrent requests rarely share a mutex; when a shard is full its oldest
// entry is forgotten, so a duplicate older than the newest capacity ids is
// handled again, which at-least-once handlers tolerate.
type hashDedupe struct {
	seeds  [2]maphash.Seed
	now    func() time.Time
	shards [dedupeShards]dedupeShard
}

const dedupeShards = 16

type dedupeKey [2]uint64

type dedupeEntry struct {
	expires int64 // UnixNano
	slot    int32 // position in the shard's ring
}

type dedupeShard struct {
	mu   sync.Mutex
	m    map[dedupeKey]dedupeEntry
	ring []dedupeKey // insertion order, oldest at head
	head int
	n    int
}

func newHashDedupe(capacity int, now func() time.Time) *hashDedupe {
	per := max(capacity/dedupeShards, 1)
	d := &hashDedupe{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, now: now}
	for i := range d.shards {
		d.shards[i].m = make(map[dedupeKey]dedupeEntry)
		d.shards[i].ring = make([]dedupeKey, per)
	}
	return d
}

func (d *hashDedupe) key(id string) (dedupeKey, *dedupeShard) {
	k := dedupeKey{maphash.String(d.seeds[0], id), maphash.String(d.seeds[1], id)}
	return k, &d.shards[k[0]%dedupeShards]
}

// Claim implements notifykit.DedupeStore.
func (d *hashDedupe) Claim(_ context.Context, id string, lease time.Duration) (bool, error) {
	k, s := d.key(id)
	now := d.now().UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[k]; ok && now < e.expires {
		return false, nil
	}
	s.put(k, now+int64(lease))
	return true, nil
}

// Commit implements notifykit.DedupeStore.
func (d *hashDedupe) Commit(_ context.Context, id string, ttl time.Duration) error {
	k, s := d.key(id)
	now := d.now().UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.put(k, now+int64(ttl))
	return nil
}

// Release implements notifykit.DedupeStore. The ring slot stays behind and
// is skipped when its turn for eviction comes.
func (d *hashDedupe) Release(_ context.Context, id string) error {
	k, s := d.key(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, k)
	return nil
}

// put must be called with s.mu held.
func (s *dedupeShard) put(k dedupeKey, expires int64) {
	if e, ok := s.m[k]; ok {
		e.expires = expires
		s.m[k] = e
		return
	}
	if s.n == len(s.ring) {
		old := s.ring[s.head]
		if e, ok := s.m[old]; ok && int(e.slot) == s.head {
			delete(s.m, old)
		}
		s.head = (s.head + 1) % len(s.ring)
		s.n--
	}
	slot := (s.head + s.n) % len(s.ring)
	s.ring[slot] = k
	s.m[k] = dedupeEntry{expires: expires, slot: int32(slot)}
	s.n++
}

// len reports how many ids are remembered (expired ones included).
func (d *hashDedupe) len() int {
	n := 0
	for i := range d.shards {
		d.shards[i].mu.Lock()
		n += len(d.shards[i].m)
		d.shards[i].mu.Unlock()
	}
	return n
}
