// Package pgqueue is the PostgreSQL engine behind the comnorm server's
// PostgreSQL store: queues with an owner and a secret, FIFO messages, a
// non-locking peek, wake-ups across instances and an exactly-once delete.
// It knows nothing about HTTP or the comnorm wire format, so the store
// adapter (comnorm/comnormserver/pgstore) stays thin.
//
// Several server instances share one database:
//
//   - Post is one statement that locks the queue row and bumps its length
//     and inserts the message. The row lock makes posts to one queue commit
//     in sequence order (FIFO by arrival holds across instances) and the
//     length limit exact. After the commit the poster's own instance wakes
//     its subscribers directly and hands the queue id to a
//     pglisten.Publisher, which NOTIFYs the other instances outside the
//     post's transaction (see Publisher for why).
//   - Peek never locks or hides messages (the spec's "peek"): it returns the
//     head in sequence order. Long polls (the server's) subscribe to the
//     queue's wake-ups before peeking, so a post committed in between still
//     wakes them; they re-peek on a bounded interval as well, because a
//     notification sent while the listener reconnects is lost.
//   - DeleteMessage is one statement that locks the queue row first (as
//     Post and DeleteQueue do, so they cannot deadlock), deletes the message
//     and decrements the length: of several instances deleting one message,
//     exactly one sees deleted == true.
//   - DeleteQueue cascades to its messages and wakes its subscribers, whose
//     next peek reports ErrQueueNotFound.
//
// Example use: see comnorm/comnormserver/pgstore; the tests here show the
// cross-instance properties.
package pgqueue
