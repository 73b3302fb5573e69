package pgqueue

import "github.com/jackc/pgx/v5"

// tables holds the quoted names derived from the configured prefix.
type tables struct {
	queues, messages, seqIndex, ownerIndex string
}

func newTables(prefix string) tables {
	return tables{
		queues:     pgx.Identifier{prefix + "_queues"}.Sanitize(),
		messages:   pgx.Identifier{prefix + "_messages"}.Sanitize(),
		seqIndex:   pgx.Identifier{prefix + "_messages_fifo"}.Sanitize(),
		ownerIndex: pgx.Identifier{prefix + "_queues_owner"}.Sanitize(),
	}
}

// migrations is append-only: never change a shipped step, add one.
func (t tables) migrations() []string {
	return []string{
		`CREATE TABLE IF NOT EXISTS ` + t.queues + ` (
			id      text PRIMARY KEY,
			owner   text NOT NULL,
			secret  bytea NOT NULL,
			length  integer NOT NULL DEFAULT 0,
			created timestamptz NOT NULL
		);
		CREATE INDEX IF NOT EXISTS ` + t.ownerIndex + ` ON ` + t.queues + ` (owner);
		CREATE TABLE IF NOT EXISTS ` + t.messages + ` (
			seq      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
			queue_id text NOT NULL REFERENCES ` + t.queues + ` (id) ON DELETE CASCADE,
			id       text NOT NULL,
			content  bytea NOT NULL,
			created  timestamptz NOT NULL,
			UNIQUE (queue_id, id)
		);
		CREATE INDEX IF NOT EXISTS ` + t.seqIndex + ` ON ` + t.messages + ` (queue_id, seq)`,
	}
}
