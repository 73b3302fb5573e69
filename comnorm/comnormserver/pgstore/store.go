package pgstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/notifykit/notifykit/comnorm/comnormserver"
	"github.com/notifykit/notifykit/internal/pgopen"
	"github.com/notifykit/notifykit/internal/pgqueue"
)

var _ comnormserver.Store = (*Store)(nil)

// DSNEnv is the environment variable the CLI reads for the PostgreSQL DSN.
const DSNEnv = "COMNORM_POSTGRES_URL"

// Store is a comnormserver.Store in PostgreSQL; any number of server
// instances may share one database.
type Store struct {
	q     *pgqueue.Store
	pool  *pgxpool.Pool
	owned bool
}

// Open connects to dsn (postgres://... or key=value) and returns a Store
// that owns its pool.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	s, err := pgopen.Owned(ctx, "pgstore", dsn, func(ctx context.Context, pool *pgxpool.Pool) (*Store, error) {
		return NewStore(ctx, pool, opts...)
	})
	if err != nil {
		return nil, err
	}
	s.owned = true
	return s, nil
}

// NewStore returns a Store on pool, creating or migrating the schema and
// starting the wake-up listener and sender (on connections of their own,
// configured like the pool's). Close stops them; the pool stays the
// caller's.
func NewStore(ctx context.Context, pool *pgxpool.Pool, opts ...Option) (*Store, error) {
	if pool == nil {
		return nil, fmt.Errorf("%w: nil pool", ErrInvalidOption)
	}
	o := options{prefix: "comnorm", logger: slog.New(slog.DiscardHandler), onError: func(error) {}}
	for _, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("%w: nil Option", ErrInvalidOption)
		}
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	q, err := pgqueue.Open(ctx, pool, pgqueue.Config{Prefix: o.prefix, Logger: o.logger, OnError: o.onError})
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	return &Store{q: q, pool: pool}, nil
}

// Configure sets cfg.Store to a PostgreSQL store when dsn is not empty (an
// empty dsn means the value of DSNEnv) and returns the function that
// closes it; with neither set it leaves cfg alone and returns a no-op.
func Configure(ctx context.Context, cfg *comnormserver.Config, dsn string, opts ...Option) (closeFn func() error, err error) {
	if dsn == "" {
		dsn = os.Getenv(DSNEnv)
	}
	if dsn == "" {
		return func() error { return nil }, nil
	}
	s, err := Open(ctx, dsn, opts...)
	if err != nil {
		return nil, err
	}
	cfg.Store = s
	return s.Close, nil
}

// CreateQueue implements comnormserver.Store.
func (s *Store) CreateQueue(ctx context.Context, q comnormserver.QueueRecord, maxPerOwner int) error {
	return mapErr(s.q.CreateQueue(ctx, pgqueue.Queue{ID: q.ID, Owner: q.Owner, Secret: q.SecretHash[:], Created: q.Created}, maxPerOwner))
}

// Queue implements comnormserver.Store.
func (s *Store) Queue(ctx context.Context, id string) (comnormserver.QueueRecord, error) {
	q, err := s.q.GetQueue(ctx, id)
	if err != nil {
		return comnormserver.QueueRecord{}, mapErr(err)
	}
	rec := comnormserver.QueueRecord{ID: q.ID, Owner: q.Owner, Created: q.Created.UTC()}
	if len(q.Secret) != len(rec.SecretHash) {
		return comnormserver.QueueRecord{}, fmt.Errorf("pgstore: queue %q has a corrupt secret hash", id)
	}
	copy(rec.SecretHash[:], q.Secret)
	return rec, nil
}

// DeleteQueue implements comnormserver.Store.
func (s *Store) DeleteQueue(ctx context.Context, id string) error {
	return mapErr(s.q.DeleteQueue(ctx, id))
}

// Append implements comnormserver.Store.
func (s *Store) Append(ctx context.Context, queueID string, m comnormserver.MessageRecord, maxMessages int) error {
	return mapErr(s.q.Post(ctx, queueID, pgqueue.Message{ID: m.ID, Content: m.Body, Created: m.Created}, maxMessages))
}

// Peek implements comnormserver.Store.
func (s *Store) Peek(ctx context.Context, queueID string, n int) ([]comnormserver.MessageRecord, error) {
	msgs, err := s.q.Peek(ctx, queueID, n)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]comnormserver.MessageRecord, len(msgs))
	for i, m := range msgs {
		out[i] = comnormserver.MessageRecord{ID: m.ID, Body: m.Content, Created: m.Created.UTC()}
	}
	return out, nil
}

// DeleteMessage implements comnormserver.Store.
func (s *Store) DeleteMessage(ctx context.Context, queueID, messageID string) error {
	_, err := s.q.DeleteMessage(ctx, queueID, messageID)
	return mapErr(err)
}

// Subscribe implements comnormserver.Store. Wake-ups come from appends on
// every instance and after each listener reconnect.
func (s *Store) Subscribe(queueID string) (<-chan struct{}, func()) {
	return s.q.Subscribe(queueID)
}

// Close stops the wake-up listener and sender and, for a Store from Open,
// closes the pool. Requests still running fail.
func (s *Store) Close() error {
	err := s.q.Close()
	if s.owned {
		s.pool.Close()
	}
	return err
}

// mapErr turns engine sentinels into the server's, which it maps to
// status codes.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgqueue.ErrQueueNotFound):
		return comnormserver.ErrQueueNotFound
	case errors.Is(err, pgqueue.ErrQueueFull):
		return comnormserver.ErrQueueFull
	case errors.Is(err, pgqueue.ErrTooManyQueues):
		return comnormserver.ErrTooManyQueues
	}
	return err
}
