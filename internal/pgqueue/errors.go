package pgqueue

import "errors"

var (
	// ErrQueueNotFound reports an unknown (or deleted) queue.
	ErrQueueNotFound = errors.New("pgqueue: queue not found")
	// ErrQueueExists reports a queue id that is already taken.
	ErrQueueExists = errors.New("pgqueue: queue already exists")
	// ErrMessageExists reports a message id already in the queue.
	ErrMessageExists = errors.New("pgqueue: message already exists")
	// ErrTooManyQueues reports an owner at its queue limit.
	ErrTooManyQueues = errors.New("pgqueue: too many queues for owner")
	// ErrQueueFull reports a queue at its length limit.
	ErrQueueFull = errors.New("pgqueue: queue full")
)
