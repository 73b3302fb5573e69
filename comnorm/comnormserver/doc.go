// Package comnormserver is a self-hostable queue service compatible with
// ComNorm's notification API: the vendor allows a software solution to run
// its own service as long as Post Message works identically for senders.
//
// # Tour
//
//   - New(store, auth, opts...) returns a *Server, an http.Handler serving
//     the five vendor routes under /api (WithPrefix) plus GET /healthz.
//   - Stores: OpenBoltStore (durable default: one bbolt file; a 200 on Post
//     means the message is fsynced, with concurrent posts grouped into one
//     commit) and NewMemoryStore (tests). The Store interface is written so
//     a shared PostgreSQL store fits (owner ids instead of keys, hashed
//     secrets, Subscribe wake-ups plus a bounded recheck);
//     internal/storetest is the conformance suite every store must pass.
//   - Authenticator: partner keys to partner ids; StaticKeys and
//     LoadKeysFile ("<partner-id> <key>" or "<key>" per line).
//   - Config + ListenAndServe(ctx, cfg): the runnable server with timeouts,
//     header limit and graceful shutdown; Config.RegisterFlags binds flags
//     with COMNORM_* environment defaults. "notifykit comnorm serve" is
//     built on it.
//
// # Behaviour where the vendor document is silent
//
//   - A queue belongs to the partner whose key created it; other partners
//     get 404 for it, so queue ids cannot be probed. Missing or wrong keys
//     and secrets get 401 with an empty body.
//   - Queue ids are 128-bit and message ids 128-bit random base64url
//     strings; notification secrets are 256-bit, stored only as SHA-256 and
//     compared in constant time.
//   - Post: the body must be valid UTF-8 JSON and an object (else 400) of
//     at most 16,384 Unicode characters (else 413; the byte cap is 65,536,
//     enforced while reading). Content-Type is not checked. The answer is
//     200 with an empty body, once the message is durable. A full queue
//     (100,000 messages) or too many queues per partner (100) gives 429.
//   - Peek: count defaults to 1 and is clamped to 1..100; timeout is in
//     whole seconds, clamped to 0..30; non-integers give 400. Peek never
//     locks or hides messages; content is returned byte for byte, oldest
//     first. A long poll wakes as soon as a message is posted and answers
//     408 when the time is up (WithEmptyPollOK: 200 []). During shutdown
//     waiting polls get 503 with Retry-After.
//   - Delete Message of an unknown message in an existing queue is 200;
//     an unknown queue is 404. Delete Queue of an unknown queue is 404.
//   - Errors other than 401 carry a JSON body {"error": "..."}.
//   - The access log (slog, default discard) records method, path, status,
//     duration and remote address, never headers.
package comnormserver
