package pgqueue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/notifykit/notifykit/internal/pglisten"
	"github.com/notifykit/notifykit/internal/pgmigrate"
)

// Config tunes a Store; the zero value is usable.
type Config struct {
	// Prefix names the tables (<prefix>_queues, <prefix>_messages) and the
	// NOTIFY channel; default "comnorm". Letters, digits and _ only.
	Prefix string
	// Logger and OnError receive listener connection problems.
	Logger  *slog.Logger
	OnError func(error)
}

// Queue is a stored queue. Secret is opaque bytes (comnorm stores a hash
// of the notification secret, never the secret).
type Queue struct {
	ID, Owner string
	Secret    []byte
	Created   time.Time // zero: the database's now()
}

// Message is a stored message.
type Message struct {
	ID      string
	Content []byte
	Created time.Time // zero: the database's now()
}

// Store is the engine; safe for concurrent use by many instances.
type Store struct {
	pool     *pgxpool.Pool
	t        tables
	channel  string
	cfg      Config
	listener *pglisten.Listener
	pub      *pglisten.Publisher
}

var prefixRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,40}$`)

// Open migrates the schema, starts the wake-up listener and waits until it
// listens. Close stops the listener; the pool stays the caller's.
func Open(ctx context.Context, pool *pgxpool.Pool, cfg Config) (*Store, error) {
	if cfg.Prefix == "" {
		cfg.Prefix = "comnorm"
	}
	if !prefixRE.MatchString(cfg.Prefix) {
		return nil, fmt.Errorf("pgqueue: invalid prefix %q", cfg.Prefix)
	}
	t := newTables(cfg.Prefix)
	if _, err := pgmigrate.Apply(ctx, pool, "pgqueue:"+cfg.Prefix, t.migrations()); err != nil {
		return nil, err
	}
	s := &Store{pool: pool, t: t, channel: cfg.Prefix + "_wakeup", cfg: cfg}
	s.listener = pglisten.New(pool.Config().ConnConfig, s.channel, cfg.Logger, cfg.OnError)
	if err := s.listener.WaitReady(ctx); err != nil {
		_ = s.listener.Close()
		return nil, err
	}
	s.pub = pglisten.NewPublisher(pool.Config().ConnConfig, s.channel, cfg.Logger, cfg.OnError)
	return s, nil
}

// Close stops the listener and the publisher.
func (s *Store) Close() error {
	s.pub.Close()
	return s.listener.Close()
}

// CreateQueue stores q unless its owner has maxPerOwner queues already
// (ErrTooManyQueues; <= 0: no limit). A transaction-level advisory lock on
// the owner makes the count exact across instances.
func (s *Store) CreateQueue(ctx context.Context, q Queue, maxPerOwner int) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if maxPerOwner > 0 {
			// Two statements: the count needs a snapshot taken after the
			// lock, or it misses the queue the previous holder committed.
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, q.Owner); err != nil {
				return fmt.Errorf("pgqueue: create queue: %w", err)
			}
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+s.t.queues+` WHERE owner = $1`, q.Owner).Scan(&n); err != nil {
				return fmt.Errorf("pgqueue: create queue: %w", err)
			}
			if n >= maxPerOwner {
				return ErrTooManyQueues
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO `+s.t.queues+` (id, owner, secret, created)
			VALUES ($1, $2, $3, COALESCE($4, now()))`, q.ID, q.Owner, q.Secret, nullTime(q.Created))
		return err
	})
	if isUniqueViolation(err) {
		return ErrQueueExists
	}
	if err != nil && !errors.Is(err, ErrTooManyQueues) {
		return fmt.Errorf("pgqueue: create queue: %w", err)
	}
	return err
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// GetQueue returns the queue id.
func (s *Store) GetQueue(ctx context.Context, id string) (Queue, error) {
	q := Queue{ID: id}
	err := s.pool.QueryRow(ctx, `SELECT owner, secret, created FROM `+s.t.queues+` WHERE id = $1`, id).Scan(&q.Owner, &q.Secret, &q.Created)
	if errors.Is(err, pgx.ErrNoRows) {
		return Queue{}, ErrQueueNotFound
	}
	if err != nil {
		return Queue{}, fmt.Errorf("pgqueue: get queue: %w", err)
	}
	return q, nil
}

// DeleteQueue deletes the queue and its messages and wakes its waiters.
func (s *Store) DeleteQueue(ctx context.Context, id string) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM `+s.t.queues+` WHERE id = $1`, id)
		if err != nil {
			return fmt.Errorf("pgqueue: delete queue: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return ErrQueueNotFound
		}
		return pglisten.Notify(ctx, tx, s.channel, id)
	})
	if err == nil {
		s.listener.Wake(id)
	}
	return err
}

// Post appends a message unless the queue holds maxMessages already
// (ErrQueueFull; <= 0: no limit). It returns after the commit, so the
// message is durable.
//
// One statement, one round trip: the conditional UPDATE locks the queue
// row (so posts to one queue commit in sequence order: FIFO across
// instances) and counts the message, and the INSERT only runs when the
// UPDATE matched. A duplicate id fails the whole statement, so the count
// is never off.
//
// The wake-up for other instances is published after the commit, not
// NOTIFYed inside the transaction: see pglisten.Publisher for why (a
// notifying commit serialises every poster in the database on its fsync).
func (s *Store) Post(ctx context.Context, queueID string, m Message, maxMessages int) error {
	var inserted int
	err := s.pool.QueryRow(ctx, `WITH q AS (
			UPDATE `+s.t.queues+` SET length = length + 1
			WHERE id = $1 AND ($5::int <= 0 OR length < $5::int) RETURNING id),
		ins AS (
			INSERT INTO `+s.t.messages+` (queue_id, id, content, created)
			SELECT q.id, $2, $3, COALESCE($4, now()) FROM q RETURNING queue_id)
		SELECT (SELECT count(*) FROM ins)`,
		queueID, m.ID, m.Content, nullTime(m.Created), maxMessages).Scan(&inserted)
	if isUniqueViolation(err) {
		return ErrMessageExists
	}
	if err != nil {
		return fmt.Errorf("pgqueue: post: %w", err)
	}
	if inserted == 0 {
		// Rare path: tell a missing queue from a full one.
		if _, err := s.GetQueue(ctx, queueID); err != nil {
			return err
		}
		return ErrQueueFull
	}
	s.listener.Wake(queueID)
	s.pub.Publish(queueID)
	return nil
}

// Subscribe returns a channel woken after every Post to queueID and its
// DeleteQueue, on any instance, and on every listener reconnect (when
// notifications may have been lost); coalesced, possibly spurious.
func (s *Store) Subscribe(queueID string) (<-chan struct{}, func()) {
	return s.listener.Subscribe(queueID)
}

// Peek returns up to count messages from the head of the queue, oldest
// first, without locking them. Long polls wait on Subscribe between peeks.
func (s *Store) Peek(ctx context.Context, queueID string, count int) ([]Message, error) {
	return s.head(ctx, queueID, max(count, 1))
}

// head reads the first count messages; the left join tells an empty queue
// from a missing one in the same round trip.
func (s *Store) head(ctx context.Context, queueID string, count int) ([]Message, error) {
	rows, err := s.pool.Query(ctx, `SELECT m.id, m.content, m.created FROM `+s.t.queues+` q
		LEFT JOIN LATERAL (SELECT id, content, created, seq FROM `+s.t.messages+`
			WHERE queue_id = q.id ORDER BY seq LIMIT $2) m ON true
		WHERE q.id = $1 ORDER BY m.seq`, queueID, count)
	if err != nil {
		return nil, fmt.Errorf("pgqueue: peek: %w", err)
	}
	defer rows.Close()
	msgs := []Message{}
	found := false
	for rows.Next() {
		found = true
		var id *string
		var content []byte
		var created *time.Time
		if err := rows.Scan(&id, &content, &created); err != nil {
			return nil, fmt.Errorf("pgqueue: peek: %w", err)
		}
		if id != nil {
			msgs = append(msgs, Message{ID: *id, Content: content, Created: *created})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgqueue: peek: %w", err)
	}
	if !found {
		return nil, ErrQueueNotFound
	}
	return msgs, nil
}

// DeleteMessage deletes one message and reports whether this call deleted
// it; of concurrent deletes of one message exactly one reports true. An
// unknown message in an existing queue is (false, nil); an unknown queue is
// ErrQueueNotFound.
//
// One statement: the queue row is locked first (the order Post and
// DeleteQueue use too, so they never deadlock), then the message is
// deleted and the count decremented only if the delete found it.
func (s *Store) DeleteMessage(ctx context.Context, queueID, messageID string) (bool, error) {
	var queueExists, deleted bool
	err := s.pool.QueryRow(ctx, `WITH q AS (
			SELECT id FROM `+s.t.queues+` WHERE id = $1 FOR UPDATE),
		d AS (
			DELETE FROM `+s.t.messages+` m USING q
			WHERE m.queue_id = q.id AND m.id = $2 RETURNING m.queue_id),
		u AS (
			UPDATE `+s.t.queues+` SET length = length - 1
			WHERE id IN (SELECT queue_id FROM d) RETURNING id)
		SELECT EXISTS (SELECT 1 FROM q), EXISTS (SELECT 1 FROM u)`, queueID, messageID).Scan(&queueExists, &deleted)
	if err != nil {
		return false, fmt.Errorf("pgqueue: delete message: %w", err)
	}
	if !queueExists {
		return false, ErrQueueNotFound
	}
	return deleted, nil
}

// Len reports the queue's length.
func (s *Store) Len(ctx context.Context, queueID string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT length FROM `+s.t.queues+` WHERE id = $1`, queueID).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, ErrQueueNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("pgqueue: len: %w", err)
	}
	return n, nil
}

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}
