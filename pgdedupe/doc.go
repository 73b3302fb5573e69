// Package pgdedupe is a notifykit.DedupeStore in PostgreSQL, so several
// consumer instances (kreditsmart shared subscriptions, DSGO webhook
// receivers behind a load balancer, banqUP competing consumers) suppress
// duplicate events together:
//
//	store, err := pgdedupe.Open(ctx, "postgres://app@db/app")
//	...
//	defer store.Close()
//	h := notifykit.Chain(handler, notifykit.Dedupe(store, 24*time.Hour))
//
// NewStore takes an existing *pgxpool.Pool instead of a DSN.
//
// # How it works
//
// One row per event id with an expiry time. Claim is a single
// INSERT ... ON CONFLICT DO UPDATE ... WHERE expired statement, so of any
// number of instances claiming one id at the same moment exactly one wins,
// and a claim whose holder died (its lease ran out) can be taken over.
// Commit extends the row to the full TTL, Release deletes it. Expiry is
// judged by the database clock, so instances with skewed clocks agree.
//
// # Choices
//
//   - Schema: the store creates its table (default "notifykit_dedupe",
//     WithTable for another name or a schema-qualified one) and an index at
//     start, through versioned idempotent migrations recorded in the table
//     notifykit_schema; several instances may start at once.
//   - Expired rows are deleted in bounded batches by whichever Claim first
//     notices that the cleanup interval (WithCleanupInterval, default one
//     minute) has passed on this instance, so the store runs no goroutine
//     and needs no Close beyond the pool's. DeleteExpired does the same on
//     demand, e.g. from a cron job when the interval is set to 0.
//   - The table is a regular (logged) table: after a database crash the
//     committed ids are still there, so no duplicate slips through.
//   - As with the in-memory store, a Release or Commit after the holder's
//     lease expired and another instance claimed the id acts on that
//     newer claim; the worst case is one more handling of a duplicate,
//     which at-least-once handlers tolerate.
//   - Errors are returned from Claim/Commit/Release (notifykit.Dedupe then
//     fails open: it handles the event); cleanup errors, which no caller
//     waits for, go to WithOnError and the logger.
package pgdedupe
