// Package pgstore is a PostgreSQL dsgoprovider.Store, so several provider
// instances share subscriptions and one notification outbox: a dispatcher
// on any instance delivers each notification, and the deliveries a crashed
// instance had claimed are taken over by another once their lease expires.
//
//	store, err := pgstore.Open(ctx, "postgres://dsgo@db/dsgo")
//	...
//	defer store.Close()
//
// It lives in its own package so that the embedded stores (memory, bbolt)
// never link pgx.
//
// # How it works
//
//   - Schema: <prefix>_subscriptions, <prefix>_deliveries and
//     <prefix>_attempts (prefix "dsgo", WithTablePrefix), created and
//     migrated at Open by versioned idempotent migrations recorded in
//     notifykit_schema; instances may start at the same time.
//   - Subscriptions are kept as their wiki-dialect JSON (the same encoding
//     the bbolt store uses, so unknown fields survive) plus the columns
//     queries need: consumer, status, end date, creation date.
//     DeactivateSubscription and ExpireSubscriptions lock the rows they
//     change, so of two concurrent deactivations exactly one succeeds.
//   - ClaimDeliveries is one UPDATE over a SELECT ... FOR UPDATE SKIP LOCKED
//     of due, unclaimed (or lease-expired) pending deliveries, oldest due
//     first; each gets a fresh random claim token and a lease end. Claimers
//     on different instances skip each other's rows instead of waiting, and
//     never get the same delivery while its claim is live.
//   - CompleteAttempt updates the delivery only where the claim token still
//     matches (else ErrClaimLost) and appends the attempt record in the same
//     transaction.
//   - Times (now, lease ends, retry times) come from the caller, as the
//     Store contract prescribes, so all instances must have reasonably
//     synchronised clocks (NTP); a skew shortens or lengthens leases by the
//     same amount. PostgreSQL keeps microseconds; DSGO timestamps are whole
//     seconds anyway.
package pgstore
