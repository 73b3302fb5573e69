package dsgo

import (
	"context"
	"hash/maphash"
	"time"

	"github.com/notifykit/notifykit"
)

// shardedDedupe spreads the receiver's default in-memory dedupe store over
// independent notifykit.MemoryDedupeStores, so concurrent webhook requests
// do not queue on one mutex (each request claims and commits).
type shardedDedupe struct {
	seed   maphash.Seed
	shards []*notifykit.MemoryDedupeStore
}

const dedupeShards = 16

func newShardedDedupe(capacity int) *shardedDedupe {
	s := &shardedDedupe{seed: maphash.MakeSeed(), shards: make([]*notifykit.MemoryDedupeStore, dedupeShards)}
	for i := range s.shards {
		s.shards[i] = notifykit.NewMemoryDedupeStore(max(capacity/dedupeShards, 1))
	}
	return s
}

func (s *shardedDedupe) shard(id string) *notifykit.MemoryDedupeStore {
	return s.shards[maphash.String(s.seed, id)%dedupeShards]
}

func (s *shardedDedupe) Claim(ctx context.Context, id string, lease time.Duration) (bool, error) {
	return s.shard(id).Claim(ctx, id, lease)
}

func (s *shardedDedupe) Commit(ctx context.Context, id string, ttl time.Duration) error {
	return s.shard(id).Commit(ctx, id, ttl)
}

func (s *shardedDedupe) Release(ctx context.Context, id string) error {
	return s.shard(id).Release(ctx, id)
}
