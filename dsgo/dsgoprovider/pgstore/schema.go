package pgstore

import "github.com/jackc/pgx/v5"

type tables struct {
	subs, deliveries, attempts                     string
	subsConsumer, due, subDeliveries, attemptsByID string
}

func newTables(prefix string) tables {
	id := func(s string) string { return pgx.Identifier{prefix + s}.Sanitize() }
	return tables{
		subs:          id("_subscriptions"),
		deliveries:    id("_deliveries"),
		attempts:      id("_attempts"),
		subsConsumer:  id("_subscriptions_consumer"),
		due:           id("_deliveries_due"),
		subDeliveries: id("_deliveries_subscription"),
		attemptsByID:  id("_attempts_notification"),
	}
}

// migrations is append-only: never change a shipped step, add one.
func (t tables) migrations() []string {
	return []string{
		`CREATE TABLE IF NOT EXISTS ` + t.subs + ` (
			id           text PRIMARY KEY,
			consumer_id  text NOT NULL,
			status       text NOT NULL,
			end_date     timestamptz,
			created_date timestamptz NOT NULL,
			doc          bytea NOT NULL
		);
		CREATE INDEX IF NOT EXISTS ` + t.subsConsumer + ` ON ` + t.subs + ` (consumer_id, created_date, id);
		CREATE TABLE IF NOT EXISTS ` + t.deliveries + ` (
			notification_id text PRIMARY KEY,
			subscription_id text NOT NULL,
			consumer_id     text NOT NULL,
			webhook_url     text NOT NULL,
			body            bytea NOT NULL,
			created_at      timestamptz NOT NULL,
			state           text NOT NULL,
			attempts        integer NOT NULL DEFAULT 0,
			next_attempt    timestamptz NOT NULL,
			last_status     integer NOT NULL DEFAULT 0,
			last_error      text NOT NULL DEFAULT '',
			done_at         timestamptz,
			claim_token     text,
			claimed_until   timestamptz
		);
		CREATE INDEX IF NOT EXISTS ` + t.due + ` ON ` + t.deliveries + ` (next_attempt, notification_id) WHERE state = 'pending';
		CREATE INDEX IF NOT EXISTS ` + t.subDeliveries + ` ON ` + t.deliveries + ` (subscription_id, created_at, notification_id);
		CREATE TABLE IF NOT EXISTS ` + t.attempts + ` (
			seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
			notification_id text NOT NULL REFERENCES ` + t.deliveries + ` (notification_id) ON DELETE CASCADE,
			number          integer NOT NULL,
			at              timestamptz NOT NULL,
			duration_us     bigint NOT NULL,
			status_code     integer NOT NULL,
			error           text NOT NULL
		);
		CREATE INDEX IF NOT EXISTS ` + t.attemptsByID + ` ON ` + t.attempts + ` (notification_id, seq)`,
	}
}
