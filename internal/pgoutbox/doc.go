// Package pgoutbox is a PostgreSQL outbox for the dsgo provider's
// notification dispatcher: enqueue notifications in the transaction that
// produced them, and let a dispatcher on any instance deliver each one.
//
//   - Claim takes due items with FOR UPDATE SKIP LOCKED, so instances never
//     wait on or double-claim each other's work, and leases them to the
//     worker for a time. A worker that dies (SIGKILL, lost network) simply
//     stops; its lease expires and another instance claims the item.
//   - Every claim increments the item's attempt number, which fences the
//     claim: Fail from a worker whose lease was taken over changes nothing.
//     Complete is not fenced: a delivery that succeeded is final even if
//     the lease ran out meanwhile (the other worker may deliver once more;
//     delivery is at-least-once, receivers deduplicate by notification id).
//   - Each attempt is recorded in <prefix>_attempts (worker, time, outcome,
//     error) for operators; items end as delivered or dead.
//   - Enqueue NOTIFYs on commit, so idle dispatchers wake at once; they
//     still poll on an interval because notifications are only a hint.
//
// Size the lease well above the delivery timeout: a lease that runs out
// during a slow delivery lets a second instance deliver the same item.
package pgoutbox
