// Package comnorm is the client side of ComNorm's notification queues: an
// online shop (the sender) posts JSON messages into a receiver's queue, the
// receiver long-polls the queue, processes the messages and deletes them.
// The vendor API is documented in ../shared/specs/comnorm.md (normative) and
// the vendor's "API Dokumentation".
//
// # Tour
//
//   - Client (receiver, X-PARTNER-KEY): CreateQueue, DeleteQueue, Peek,
//     DeleteMessage. NewClient(partnerKey, WithBaseURL(...)) talks to the
//     hosted service by default or to any compatible server.
//   - Sender (X-COMNORM-NOTIFICATION-SECRET): Post(ctx, notificationURL,
//     secret, v) checks before sending that the body is a JSON object of at
//     most MaxMessageSize bytes.
//   - Consumer: Run(ctx) long-polls one queue, calls the handler
//     (OnMessage or WithHandler; events are *Event and implement
//     notifykit.Event) and deletes each message after the handler returned
//     nil.
//   - comnorm/comnormserver: a compatible, self-hostable server (durable
//     bbolt store by default); comnorm/comnormtest: NewServer(t) for tests.
//
// # Choices where the vendor document is silent
//
//   - Size: the vendor allows "16384 characters". The client counts bytes,
//     which satisfies both readings (a byte count is never below the
//     character count); comnormserver counts Unicode characters, so
//     16,384 "€" are accepted by the server but rejected by this client.
//   - An empty long poll may come back as [] or as 408 Request Timeout; both
//     are "no messages" (nil, nil), never an error.
//   - Deleting a message that is already gone succeeds (404 counts as done),
//     and so does deleting a queue that does not exist.
//   - Status mapping: 401/403 → ErrUnauthorized, 404 → ErrQueueNotFound,
//     413 → ErrMessageTooLarge, 400 on post → ErrNotJSONObject, 429 on
//     post/create → ErrQueueFull, 5xx/429 → ErrUnavailable; all as
//     *APIError (Body truncated to 4 KiB). Partner keys and secrets travel
//     only in headers and never appear in errors or logs.
//   - Long polling: each Peek has its own deadline, poll timeout plus a
//     slack (WithPollSlack, default 10 s), so neither a hung server nor an
//     http.Client timeout can break polling silently; NewClient rejects an
//     http.Client whose Timeout or ResponseHeaderTimeout is shorter than
//     MaxPollTimeout plus the slack.
//   - Retries: idempotent requests (Peek, DeleteMessage, DeleteQueue) are
//     retried on transport errors, 5xx and 429 (3 attempts, honouring
//     Retry-After). CreateQueue and Post are not: a lost response would
//     create a second queue or a duplicate message. Sender retries are
//     opt-in with WithRetry, accepting duplicates.
//
// # Consumer semantics
//
// Delivery is at least once. ComNorm's peek neither locks nor hides
// messages, so run one Consumer per queue; inside it an in-flight set
// guarantees a message is never handled twice at the same time. A failed
// message stays in the queue and is retried after a per-message backoff, so
// a poison message cannot spin the loop; after WithRetry's maxAttempts (or
// at once for notifykit.Permanent errors) it goes to the WithDeadLetter
// callback and is deleted if the callback returns nil. Without a callback
// it is kept and reported through OnError: deletion is irreversible. Retry
// counts live in memory and restart with the consumer. Transient failures
// are reported to OnError and retried with jittered backoff; Run returns
// only when its context ends (nil, after draining) or for ErrUnauthorized
// and ErrQueueNotFound. Default batch 10, poll timeout 20 s, concurrency 1
// (FIFO).
package comnorm
