package pgoutbox

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/notifykit/notifykit/internal/pglisten"
	"github.com/notifykit/notifykit/internal/pgmigrate"
)

// ErrLeaseLost reports a Fail by a worker whose claim was taken over.
var ErrLeaseLost = errors.New("pgoutbox: lease lost to another worker")

// Item is an outbox entry as claimed by a worker.
type Item struct {
	ID      int64
	Topic   string // e.g. the subscription id; free for the caller
	Payload []byte
	Created time.Time
	Attempt int // 1 on the first claim
}

// State of an item.
const (
	StatePending   = "pending"
	StateDelivered = "delivered"
	StateDead      = "dead"
)

// Outbox is the store; safe for concurrent use by many instances.
type Outbox struct {
	pool    *pgxpool.Pool
	outbox  string
	attmpts string
	channel string
}

var prefixRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,40}$`)

// Open migrates the schema for prefix (tables <prefix>_outbox and
// <prefix>_attempts).
func Open(ctx context.Context, pool *pgxpool.Pool, prefix string) (*Outbox, error) {
	if !prefixRE.MatchString(prefix) {
		return nil, fmt.Errorf("pgoutbox: invalid prefix %q", prefix)
	}
	o := &Outbox{
		pool:    pool,
		outbox:  pgx.Identifier{prefix + "_outbox"}.Sanitize(),
		attmpts: pgx.Identifier{prefix + "_attempts"}.Sanitize(),
		channel: prefix + "_outbox",
	}
	due := pgx.Identifier{prefix + "_outbox_due"}.Sanitize()
	_, err := pgmigrate.Apply(ctx, pool, "pgoutbox:"+prefix, []string{
		`CREATE TABLE IF NOT EXISTS ` + o.outbox + ` (
			id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
			topic         text NOT NULL,
			payload       bytea NOT NULL,
			created       timestamptz NOT NULL DEFAULT now(),
			due           timestamptz NOT NULL DEFAULT now(),
			state         text NOT NULL DEFAULT 'pending',
			attempts      integer NOT NULL DEFAULT 0,
			claimed_by    text,
			claimed_until timestamptz,
			last_error    text
		);
		CREATE INDEX IF NOT EXISTS ` + due + ` ON ` + o.outbox + ` (due, id) WHERE state = 'pending';
		CREATE TABLE IF NOT EXISTS ` + o.attmpts + ` (
			outbox_id bigint NOT NULL REFERENCES ` + o.outbox + ` (id) ON DELETE CASCADE,
			attempt   integer NOT NULL,
			at        timestamptz NOT NULL DEFAULT now(),
			worker    text NOT NULL,
			ok        boolean NOT NULL,
			error     text,
			PRIMARY KEY (outbox_id, attempt)
		)`,
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

// Channel is the NOTIFY channel Enqueue signals (payload "outbox"), for a
// pglisten.Listener.
func (o *Outbox) Channel() string { return o.channel }

// WakeKey is the key Enqueue notifies on Channel.
const WakeKey = "outbox"

// Enqueue adds an item through q, which may be the caller's transaction so
// the notification is enqueued atomically with what caused it.
func (o *Outbox) Enqueue(ctx context.Context, q pglisten.Execer, topic string, payload []byte) error {
	if q == nil {
		q = o.pool
	}
	if _, err := q.Exec(ctx, `INSERT INTO `+o.outbox+` (topic, payload) VALUES ($1, $2)`, topic, payload); err != nil {
		return fmt.Errorf("pgoutbox: enqueue: %w", err)
	}
	return pglisten.Notify(ctx, q, o.channel, WakeKey)
}

// Claim leases up to n due items to worker for lease, oldest first.
func (o *Outbox) Claim(ctx context.Context, worker string, n int, lease time.Duration) ([]Item, error) {
	rows, err := o.pool.Query(ctx, `UPDATE `+o.outbox+` o
		SET claimed_by = $1, claimed_until = clock_timestamp() + $3::bigint * interval '1 microsecond', attempts = o.attempts + 1
		FROM (SELECT id FROM `+o.outbox+`
			WHERE state = 'pending' AND due <= clock_timestamp()
			  AND (claimed_until IS NULL OR claimed_until <= clock_timestamp())
			ORDER BY due, id LIMIT $2 FOR UPDATE SKIP LOCKED) c
		WHERE o.id = c.id
		RETURNING o.id, o.topic, o.payload, o.created, o.attempts`, worker, n, lease.Microseconds())
	if err != nil {
		return nil, fmt.Errorf("pgoutbox: claim: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Item, error) {
		var it Item
		err := r.Scan(&it.ID, &it.Topic, &it.Payload, &it.Created, &it.Attempt)
		return it, err
	})
	if err != nil {
		return nil, fmt.Errorf("pgoutbox: claim: %w", err)
	}
	return items, nil
}

// Complete marks it delivered and records the attempt, in one statement.
func (o *Outbox) Complete(ctx context.Context, worker string, it Item) error {
	_, err := o.pool.Exec(ctx, `WITH u AS (
			UPDATE `+o.outbox+` SET state = 'delivered', claimed_by = NULL, claimed_until = NULL
			WHERE id = $1 AND state = 'pending' RETURNING id)
		INSERT INTO `+o.attmpts+` (outbox_id, attempt, worker, ok)
		VALUES ($1, $2, $3, true) ON CONFLICT DO NOTHING`, it.ID, it.Attempt, worker)
	if err != nil {
		return fmt.Errorf("pgoutbox: complete: %w", err)
	}
	return nil
}

// Fail records a failed attempt and makes the item due again after retry,
// or dead when dead is set. It returns ErrLeaseLost (and changes nothing
// but the attempt log) when another worker claimed the item since. One
// statement, so the log and the state never disagree.
func (o *Outbox) Fail(ctx context.Context, worker string, it Item, cause error, retry time.Duration, dead bool) error {
	state := StatePending
	if dead {
		state = StateDead
	}
	msg := "unknown error"
	if cause != nil {
		msg = cause.Error()
	}
	var updated int
	err := o.pool.QueryRow(ctx, `WITH u AS (
			UPDATE `+o.outbox+`
			SET state = $4, due = clock_timestamp() + $5::bigint * interval '1 microsecond',
			    claimed_by = NULL, claimed_until = NULL, last_error = $6
			WHERE id = $1 AND claimed_by = $2 AND attempts = $3 AND state = 'pending'
			RETURNING id),
		r AS (INSERT INTO `+o.attmpts+` (outbox_id, attempt, worker, ok, error)
			VALUES ($1, $3, $2, false, $6) ON CONFLICT DO NOTHING)
		SELECT count(*) FROM u`,
		it.ID, worker, it.Attempt, state, retry.Microseconds(), msg).Scan(&updated)
	if err != nil {
		return fmt.Errorf("pgoutbox: fail: %w", err)
	}
	if updated == 0 {
		return ErrLeaseLost
	}
	return nil
}

// Counts reports how many items are in each state.
func (o *Outbox) Counts(ctx context.Context) (map[string]int, error) {
	rows, err := o.pool.Query(ctx, `SELECT state, count(*) FROM `+o.outbox+` GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("pgoutbox: counts: %w", err)
	}
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rows.Err()
}

// PurgeDelivered deletes delivered items (and their attempt log) older
// than age.
func (o *Outbox) PurgeDelivered(ctx context.Context, age time.Duration) (int64, error) {
	tag, err := o.pool.Exec(ctx, `DELETE FROM `+o.outbox+` WHERE state = 'delivered'
		AND created < clock_timestamp() - $1::bigint * interval '1 microsecond'`, age.Microseconds())
	if err != nil {
		return 0, fmt.Errorf("pgoutbox: purge: %w", err)
	}
	return tag.RowsAffected(), nil
}
