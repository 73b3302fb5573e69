package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/notifykit/notifykit/dsgo"
	"github.com/notifykit/notifykit/dsgo/dsgoprovider"
	"github.com/notifykit/notifykit/internal/pgmigrate"
	"github.com/notifykit/notifykit/internal/pgopen"
)

var _ dsgoprovider.Store = (*Store)(nil)

// DSNEnv is the environment variable the CLI reads for the PostgreSQL DSN.
const DSNEnv = "DSGO_POSTGRES_URL"

// Store is a dsgoprovider.Store in PostgreSQL; any number of provider
// instances may share one database.
type Store struct {
	pool  *pgxpool.Pool
	owned bool
	t     tables
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

// NewStore returns a Store on pool, creating or migrating the schema. The
// pool stays the caller's.
func NewStore(ctx context.Context, pool *pgxpool.Pool, opts ...Option) (*Store, error) {
	if pool == nil {
		return nil, fmt.Errorf("%w: nil pool", ErrInvalidOption)
	}
	o := options{prefix: "dsgo"}
	for _, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("%w: nil Option", ErrInvalidOption)
		}
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	t := newTables(o.prefix)
	if _, err := pgmigrate.Apply(ctx, pool, "dsgoprovider:"+o.prefix, t.migrations()); err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	return &Store{pool: pool, t: t}, nil
}

// Close closes the pool if Open created it.
func (s *Store) Close() error {
	if s.owned {
		s.pool.Close()
	}
	return nil
}

// --- subscriptions ---

// CreateSubscription implements dsgoprovider.Store.
func (s *Store) CreateSubscription(ctx context.Context, sub *dsgo.Subscription) error {
	doc, err := sub.Encode(dsgo.DialectWiki)
	if err != nil {
		return fmt.Errorf("pgstore: encode subscription: %w", err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO `+s.t.subs+` (id, consumer_id, status, end_date, created_date, doc)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		sub.ID, sub.ConsumerID, string(sub.Status), nullTime(sub.EndDate.Time), sub.CreatedDate.Time, doc)
	if isUniqueViolation(err) {
		return fmt.Errorf("%w: subscription %s exists", dsgoprovider.ErrConflict, sub.ID)
	}
	if err != nil {
		return fmt.Errorf("pgstore: create subscription: %w", err)
	}
	return nil
}

// GetSubscription implements dsgoprovider.Store.
func (s *Store) GetSubscription(ctx context.Context, id string) (*dsgo.Subscription, error) {
	return s.getSub(ctx, s.pool, id, "")
}

// rowQuerier is a pool or a transaction.
type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func (s *Store) getSub(ctx context.Context, q rowQuerier, id, lock string) (*dsgo.Subscription, error) {
	var doc []byte
	err := q.QueryRow(ctx, `SELECT doc FROM `+s.t.subs+` WHERE id = $1 `+lock, id).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: subscription %s", dsgo.ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("pgstore: get subscription: %w", err)
	}
	return decodeSub(id, doc)
}

func decodeSub(id string, doc []byte) (*dsgo.Subscription, error) {
	var sub dsgo.Subscription
	if err := json.Unmarshal(doc, &sub); err != nil {
		return nil, fmt.Errorf("pgstore: stored subscription %s: %w", id, err)
	}
	return &sub, nil
}

// ListSubscriptions implements dsgoprovider.Store.
func (s *Store) ListSubscriptions(ctx context.Context, consumerID string) ([]dsgo.Subscription, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, doc FROM `+s.t.subs+`
		WHERE $1 = '' OR consumer_id = $1 ORDER BY created_date, id`, consumerID)
	if err != nil {
		return nil, fmt.Errorf("pgstore: list subscriptions: %w", err)
	}
	defer rows.Close()
	out := []dsgo.Subscription{}
	for rows.Next() {
		var id string
		var doc []byte
		if err := rows.Scan(&id, &doc); err != nil {
			return nil, fmt.Errorf("pgstore: list subscriptions: %w", err)
		}
		sub, err := decodeSub(id, doc)
		if err != nil {
			return nil, err
		}
		out = append(out, *sub)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: list subscriptions: %w", err)
	}
	return out, nil
}

// DeactivateSubscription implements dsgoprovider.Store. The row lock makes
// concurrent calls (on any instance) see each other: one wins, the others
// get dsgo.ErrNotActive.
func (s *Store) DeactivateSubscription(ctx context.Context, id string, at time.Time) (*dsgo.Subscription, error) {
	var out *dsgo.Subscription
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		sub, err := s.getSub(ctx, tx, id, "FOR UPDATE")
		if err != nil {
			return err
		}
		if sub.Status != dsgo.StatusActive {
			return fmt.Errorf("%w: subscription %s is %s", dsgo.ErrNotActive, id, sub.Status)
		}
		sub.Status = dsgo.StatusInactive
		if sub.EndDate.IsZero() || sub.EndDate.After(at) {
			sub.EndDate = dsgo.Unix(at)
		}
		out = sub
		return s.putSub(ctx, tx, sub)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ExpireSubscriptions implements dsgoprovider.Store. Rows another instance
// is expiring right now are skipped, not waited for: that instance reports
// them.
func (s *Store) ExpireSubscriptions(ctx context.Context, now time.Time) ([]string, error) {
	var ids []string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		ids = nil
		rows, err := tx.Query(ctx, `SELECT id, doc FROM `+s.t.subs+`
			WHERE status = $1 AND end_date IS NOT NULL AND end_date <= $2
			FOR UPDATE SKIP LOCKED`, string(dsgo.StatusActive), now)
		if err != nil {
			return err
		}
		var subs []*dsgo.Subscription
		for rows.Next() {
			var id string
			var doc []byte
			if err := rows.Scan(&id, &doc); err != nil {
				rows.Close()
				return err
			}
			sub, err := decodeSub(id, doc)
			if err != nil {
				rows.Close()
				return err
			}
			subs = append(subs, sub)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, sub := range subs {
			sub.Status = dsgo.StatusInactive
			if err := s.putSub(ctx, tx, sub); err != nil {
				return err
			}
			ids = append(ids, sub.ID)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: expire subscriptions: %w", err)
	}
	slices.Sort(ids)
	return ids, nil
}

func (s *Store) putSub(ctx context.Context, tx pgx.Tx, sub *dsgo.Subscription) error {
	doc, err := sub.Encode(dsgo.DialectWiki)
	if err != nil {
		return fmt.Errorf("pgstore: encode subscription: %w", err)
	}
	_, err = tx.Exec(ctx, `UPDATE `+s.t.subs+` SET status = $2, end_date = $3, doc = $4 WHERE id = $1`,
		sub.ID, string(sub.Status), nullTime(sub.EndDate.Time), doc)
	if err != nil {
		return fmt.Errorf("pgstore: update subscription: %w", err)
	}
	return nil
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}
