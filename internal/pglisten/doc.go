// Package pglisten turns PostgreSQL LISTEN/NOTIFY into per-key wake-ups, so
// a long poll on one server instance returns as soon as another instance
// commits work for it.
//
// A Listener holds one dedicated connection (not a pool's: LISTEN is
// per-session) that LISTENs on one channel; a notification's payload is the
// key (a queue id, say) and wakes that key's subscribers. Writers either
// call Notify inside the transaction that adds the work (PostgreSQL
// delivers notifications only on commit, so a woken waiter always finds
// the row) or, on hot paths, hand the key to a Publisher after their
// commit: it sends batched notifications from its own asynchronously
// committing connection, because notifying commits are serialised
// database-wide across their WAL flush.
//
// Notifications are a hint, never the source of truth. They are lost while
// the listener is disconnected, so on every (re)connect it wakes all
// subscribers to re-check, and callers still poll the database on a
// bounded interval as a fallback. The connection is health-checked with a
// ping when idle, so a silently dropped TCP session is noticed.
package pglisten
