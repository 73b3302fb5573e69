// Package pgstore is a PostgreSQL comnormserver.Store, so several comnorm
// server instances behind a load balancer share queues: a message posted
// through instance B is peeked and deleted through instance A, and a long
// poll waiting on A wakes as soon as B commits the post.
//
//	store, err := pgstore.Open(ctx, "postgres://comnorm@db/comnorm")
//	...
//	defer store.Close()
//	err = comnormserver.ListenAndServe(ctx, comnormserver.Config{Store: store, ...})
//
// It lives in its own package so that the embedded default (bbolt) and
// users who never need PostgreSQL do not link pgx.
//
// # How it works
//
//   - Schema: tables <prefix>_queues and <prefix>_messages (prefix
//     "comnorm" by default, WithTablePrefix), created and migrated at Open
//     through versioned, idempotent migrations recorded in
//     notifykit_schema; instances may start at the same time.
//   - Order: Append locks the queue row, bumps its length and inserts the
//     message in one transaction, so appends to one queue commit in
//     sequence order and Peek (ORDER BY sequence) is oldest-first across
//     instances. The length counter makes the per-queue limit exact; an
//     advisory lock on the owner makes the per-partner queue limit exact.
//   - Durability: Append returns after COMMIT, so the server's 200 means
//     the message is in PostgreSQL (durable as the server's
//     synchronous_commit setting makes it).
//   - Peek never locks or hides messages. DeleteMessage is one DELETE under
//     the queue row lock: of concurrent deletes exactly one removes the
//     row, the others find nothing, which the contract treats as success.
//   - Wake-ups: NOTIFY <prefix>_wakeup with the queue id as payload.
//     DeleteQueue sends it inside its transaction. Append sends it after
//     its commit, from a connection of its own that commits asynchronously
//     and sends the ids of the appends of a 2 ms window in one
//     transaction: a NOTIFY inside the append would serialise every append
//     in the database on its WAL fsync (PostgreSQL holds a database-wide
//     lock across notifying commits), and one notification per append
//     costs every instance's listener a wake-up. The appending instance
//     wakes its own waiters directly after commit. Each store holds one
//     LISTEN connection, reconnecting with backoff; after a reconnect it
//     wakes all its waiters, because notifications sent while it was away
//     are lost. The server re-peeks on a bounded interval in any case
//     (comnormserver.WithRecheckInterval), so a lost notification (also:
//     an instance killed between an append's commit and its send) delays
//     a long poll, never loses a message.
//   - Connections: besides the pool, each store opens two of its own, the
//     listener's and the notification sender's.
//   - Database restarts: the pool replaces broken connections and the
//     listener reconnects by itself; requests made while the database is
//     down fail with 500, and clients retry them.
//
// Configuration: the CLI selects this store when a postgres:// DSN is given
// (flag or the COMNORM_POSTGRES_URL environment variable, see DSNEnv);
// Configure does that wiring for any comnormserver.Config.
package pgstore
