package banqup

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// settleTagHeader carries a copy's publish sequence number so that a
// basic.return (unroutable) can be matched to its publish: RabbitMQ sends
// the return before the confirm, and an unroutable copy must not count as
// stored even though the broker acks it.
const settleTagHeader = "NotifyKit-Settle-Seq"

var (
	errNacked     = errors.New("broker nacked the copy")
	errUnroutable = errors.New("copy was unroutable (is the queue bound?)")
	errPubClosed  = errors.New("publish channel closed")
)

// confirmer publishes on a confirm-mode channel and reports each publish's
// fate. One goroutine reads both returns and confirms: returns come on an
// unbuffered channel, so the library's reader cannot hand over a copy's
// confirm before its return has been seen.
type confirmer struct {
	ch      *amqp.Channel
	timeout time.Duration

	pubMu sync.Mutex // orders sequence numbers with publishes

	mu      sync.Mutex
	waiters map[uint64]chan error
	closed  bool
	done    chan struct{}
}

func newConfirmer(ch *amqp.Channel, timeout time.Duration, capacity int) (*confirmer, error) {
	if err := ch.Confirm(false); err != nil {
		return nil, err
	}
	c := &confirmer{ch: ch, timeout: timeout, waiters: map[uint64]chan error{}, done: make(chan struct{})}
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, capacity))
	returns := ch.NotifyReturn(make(chan amqp.Return))
	go c.track(confirms, returns)
	return c, nil
}

func (c *confirmer) track(confirms <-chan amqp.Confirmation, returns <-chan amqp.Return) {
	defer close(c.done)
	returned := map[uint64]bool{}
	for confirms != nil {
		select {
		case r, ok := <-returns:
			if !ok {
				returns = nil
				continue
			}
			if tag, ok := r.Headers[settleTagHeader].(int64); ok {
				returned[uint64(tag)] = true
			}
		case cf, ok := <-confirms:
			if !ok {
				confirms = nil
				continue
			}
			var err error
			switch {
			case !cf.Ack:
				err = errNacked
			case returned[cf.DeliveryTag]:
				err = errUnroutable
			}
			delete(returned, cf.DeliveryTag)
			c.mu.Lock()
			w := c.waiters[cf.DeliveryTag]
			delete(c.waiters, cf.DeliveryTag)
			c.mu.Unlock()
			if w != nil {
				w <- err
			}
		}
	}
	c.mu.Lock()
	c.closed = true
	for tag, w := range c.waiters {
		w <- errPubClosed
		delete(c.waiters, tag)
	}
	c.mu.Unlock()
}

// publish sends msg with mandatory set and waits until the broker has
// confirmed that it stored it.
func (c *confirmer) publish(ctx context.Context, exchange, key string, msg amqp.Publishing) error {
	w := make(chan error, 1)
	c.pubMu.Lock()
	tag := c.ch.GetNextPublishSeqNo()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		c.pubMu.Unlock()
		return errPubClosed
	}
	c.waiters[tag] = w
	c.mu.Unlock()
	msg.Headers[settleTagHeader] = int64(tag)
	err := c.ch.PublishWithContext(ctx, exchange, key, true, false, msg)
	c.pubMu.Unlock()
	if err != nil {
		c.mu.Lock()
		delete(c.waiters, tag)
		c.mu.Unlock()
		return fmt.Errorf("publish: %w", err)
	}
	t := time.NewTimer(c.timeout)
	defer t.Stop()
	select {
	case err := <-w:
		return err
	case <-t.C:
		// The library drops notifications it cannot deliver within 5 s; a
		// missing confirm is treated as a failure, never as success.
		return fmt.Errorf("no publisher confirm within %v", c.timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}
