package kreditsmart

import (
	"context"
	"sync"
	"time"
)

// coalescer merges notifications per Vorgangsnummer on the subscriber's
// routing goroutine, so "latest" means latest in arrival order (a
// goroutine per message, as notifykit.Coalesce needs, would race). A batch
// holds the acknowledgements of every merged message and runs them after
// the one handler call for the batch returned.
type coalescer struct {
	window time.Duration
	run    func(n *Notification, done func()) // calls the handler, then done

	mu      sync.Mutex
	pending map[string]*batch
	wg      sync.WaitGroup
}

type batch struct {
	latest *Notification
	acks   []func()
	timer  *time.Timer
}

func newCoalescer(window time.Duration, run func(*Notification, func())) *coalescer {
	return &coalescer{window: window, run: run, pending: make(map[string]*batch)}
}

// add merges n into its batch; ack runs once the batch was handled.
func (c *coalescer) add(n *Notification, ack func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := n.Vorgangsnummer
	if b, ok := c.pending[key]; ok {
		b.latest = n
		b.acks = append(b.acks, ack)
		return
	}
	b := &batch{latest: n, acks: []func(){ack}}
	c.pending[key] = b
	c.wg.Add(1)
	b.timer = time.AfterFunc(c.window, func() { c.fire(key, b) })
}

func (c *coalescer) fire(key string, b *batch) {
	c.mu.Lock()
	if c.pending[key] == b {
		delete(c.pending, key)
	}
	n, acks := b.latest, b.acks
	c.mu.Unlock()
	c.run(n, func() {
		for _, a := range acks {
			a()
		}
		c.wg.Done()
	})
}

// flush fires every pending batch now and waits until all have been
// handled or ctx ends.
func (c *coalescer) flush(ctx context.Context) error {
	c.mu.Lock()
	for key, b := range c.pending {
		if b.timer.Stop() {
			go c.fire(key, b)
		}
	}
	c.mu.Unlock()
	idle := make(chan struct{})
	go func() { c.wg.Wait(); close(idle) }()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
