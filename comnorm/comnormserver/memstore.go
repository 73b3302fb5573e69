package comnormserver

import (
	"container/list"
	"context"
	"sync"
)

// MemoryStore keeps everything in memory: for tests and throwaway servers.
// Nothing survives a restart.
type MemoryStore struct {
	Notifier
	mu     sync.Mutex
	queues map[string]*memQueue
}

type memQueue struct {
	rec  QueueRecord
	list *list.List // of MessageRecord, oldest at the front
	byID map[string]*list.Element
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{queues: make(map[string]*memQueue)}
}

// CreateQueue implements Store.
func (s *MemoryStore) CreateQueue(ctx context.Context, q QueueRecord, maxPerOwner int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if maxPerOwner > 0 {
		n := 0
		for _, mq := range s.queues {
			if mq.rec.Owner == q.Owner {
				n++
			}
		}
		if n >= maxPerOwner {
			return ErrTooManyQueues
		}
	}
	s.queues[q.ID] = &memQueue{rec: q, list: list.New(), byID: make(map[string]*list.Element)}
	return nil
}

// Queue implements Store.
func (s *MemoryStore) Queue(ctx context.Context, id string) (QueueRecord, error) {
	if err := ctx.Err(); err != nil {
		return QueueRecord{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	mq, ok := s.queues[id]
	if !ok {
		return QueueRecord{}, ErrQueueNotFound
	}
	return mq.rec, nil
}

// DeleteQueue implements Store.
func (s *MemoryStore) DeleteQueue(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	_, ok := s.queues[id]
	delete(s.queues, id)
	s.mu.Unlock()
	if !ok {
		return ErrQueueNotFound
	}
	s.Notify(id)
	return nil
}

// Append implements Store.
func (s *MemoryStore) Append(ctx context.Context, queueID string, m MessageRecord, maxMessages int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	mq, ok := s.queues[queueID]
	if !ok {
		s.mu.Unlock()
		return ErrQueueNotFound
	}
	if maxMessages > 0 && mq.list.Len() >= maxMessages {
		s.mu.Unlock()
		return ErrQueueFull
	}
	mq.byID[m.ID] = mq.list.PushBack(m)
	s.mu.Unlock()
	s.Notify(queueID)
	return nil
}

// Peek implements Store.
func (s *MemoryStore) Peek(ctx context.Context, queueID string, n int) ([]MessageRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	mq, ok := s.queues[queueID]
	if !ok {
		return nil, ErrQueueNotFound
	}
	out := make([]MessageRecord, 0, min(n, mq.list.Len()))
	for e := mq.list.Front(); e != nil && len(out) < n; e = e.Next() {
		out = append(out, e.Value.(MessageRecord))
	}
	return out, nil
}

// DeleteMessage implements Store.
func (s *MemoryStore) DeleteMessage(ctx context.Context, queueID, messageID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	mq, ok := s.queues[queueID]
	if !ok {
		return ErrQueueNotFound
	}
	if e, ok := mq.byID[messageID]; ok {
		mq.list.Remove(e)
		delete(mq.byID, messageID)
	}
	return nil
}

// Close implements Store; a MemoryStore needs no cleanup.
func (s *MemoryStore) Close() error { return nil }
