package comnormserver

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Store errors. Stores return them (possibly wrapped) so the server can map
// them to status codes; any other error is a 500.
var (
	// ErrQueueNotFound: no queue with that id.
	ErrQueueNotFound = errors.New("comnormserver: queue not found")
	// ErrQueueFull: the queue holds its maximum number of messages.
	ErrQueueFull = errors.New("comnormserver: queue full")
	// ErrTooManyQueues: the partner owns its maximum number of queues.
	ErrTooManyQueues = errors.New("comnormserver: too many queues for partner")
)

// QueueRecord is a stored queue. The secret is kept only as its SHA-256
// hash, so a leaked database does not let anyone post.
type QueueRecord struct {
	ID         string
	Owner      string // partner id from the Authenticator, never the key
	SecretHash [32]byte
	Created    time.Time
}

// MessageRecord is a stored message. Body is the posted JSON object byte for
// byte; callers must not modify it.
type MessageRecord struct {
	ID      string
	Body    []byte
	Created time.Time
}

// Store keeps queues and messages. The server calls it from many goroutines
// at once. Every method that takes a context must honour it.
//
// The contract, checked by the conformance suite in
// comnormserver/internal/storetest for every implementation:
//   - Append returns only once the message is durable (for a durable store:
//     on disk); the server answers 200 right after it.
//   - Peek returns up to n messages in arrival order (FIFO) without hiding
//     or locking them.
//   - DeleteMessage removes a message for good; an unknown message in an
//     existing queue is not an error; an unknown queue is ErrQueueNotFound.
//   - Subscribe delivers a wake-up after every Append to that queue (and on
//     DeleteQueue), including appends made by other processes sharing the
//     store if the store is shared. Wake-ups may be coalesced or spurious;
//     the server re-peeks after each and also re-peeks on a bounded
//     interval, so a store whose cross-process signal is lossy (PostgreSQL
//     LISTEN/NOTIFY across a reconnect) stays correct.
type Store interface {
	// CreateQueue stores q unless its owner already has maxPerOwner queues
	// (ErrTooManyQueues); maxPerOwner <= 0 means no limit.
	CreateQueue(ctx context.Context, q QueueRecord, maxPerOwner int) error
	// Queue returns the queue with that id or ErrQueueNotFound.
	Queue(ctx context.Context, id string) (QueueRecord, error)
	// DeleteQueue removes a queue and all its messages, or returns
	// ErrQueueNotFound.
	DeleteQueue(ctx context.Context, id string) error
	// Append adds m at the tail unless the queue holds maxMessages already
	// (ErrQueueFull; <= 0 means no limit) or does not exist.
	Append(ctx context.Context, queueID string, m MessageRecord, maxMessages int) error
	// Peek returns up to n messages from the head, oldest first.
	Peek(ctx context.Context, queueID string, n int) ([]MessageRecord, error)
	// DeleteMessage removes one message.
	DeleteMessage(ctx context.Context, queueID, messageID string) error
	// Subscribe returns a channel that receives a value after an Append to
	// queueID, and a function that ends the subscription.
	Subscribe(queueID string) (<-chan struct{}, func())
	// Close releases the store; pending Appends fail or complete first.
	Close() error
}

// Notifier fans wake-ups for a queue out to its subscribers inside one
// process. Stores embed it to implement Store.Subscribe; a store shared
// between processes additionally calls Notify when it learns of a remote
// append. The zero value is ready to use.
type Notifier struct {
	mu   sync.Mutex
	subs map[string]map[chan struct{}]struct{}
}

// Subscribe implements Store.Subscribe.
func (n *Notifier) Subscribe(queueID string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	n.mu.Lock()
	if n.subs == nil {
		n.subs = make(map[string]map[chan struct{}]struct{})
	}
	set := n.subs[queueID]
	if set == nil {
		set = make(map[chan struct{}]struct{})
		n.subs[queueID] = set
	}
	set[ch] = struct{}{}
	n.mu.Unlock()
	return ch, func() {
		n.mu.Lock()
		delete(set, ch)
		// Sets are removed only when empty, so ch's set is the current one.
		if len(n.subs[queueID]) == 0 {
			delete(n.subs, queueID)
		}
		n.mu.Unlock()
	}
}

// Notify wakes every subscriber of queueID without blocking; a subscriber
// that has a wake-up pending already keeps just the one.
func (n *Notifier) Notify(queueID string) {
	n.mu.Lock()
	for ch := range n.subs[queueID] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	n.mu.Unlock()
}
