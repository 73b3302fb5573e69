// Package pgqueue is the PostgreSQL engine behind the comnorm server's
// PostgreSQL store: queues with an owner and a secret, FIFO messages,
// a non-locking peek that long-polls with cross-instance wake-up, and an
// exactly-once delete. It knows nothing about HTTP or the comnorm wire
// format, so the store adapter stays thin and the benchmark can drive the
// engine directly.
//
// Several server instances share one database:
//
//   - Post inserts the message and bumps the queue's length in one
//     transaction that locks the queue row, so posts to one queue commit in
//     sequence order (FIFO by arrival holds across instances) and the
//     length limit is exact. The transaction NOTIFYs the queue id; it is
//     delivered on commit only.
//   - Peek never locks or hides messages (the spec's "peek"): it returns the
//     head in sequence order. Long polls (the server's) subscribe to the
//     queue's wake-ups before peeking, so a post committed in between still
//     wakes them; they re-peek on a bounded interval as well, because a
//     notification sent while the listener reconnects is lost.
//   - DeleteMessage is a single DELETE ... RETURNING: of several instances
//     deleting one message, exactly one sees deleted == true.
//   - DeleteQueue cascades to its messages and wakes its waiters, which
//     then report ErrQueueNotFound.
package pgqueue
