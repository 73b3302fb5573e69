package banqup

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// session is one connection lifetime: a consume connection and a separate
// publish connection (so that flow control on publishing never stalls
// acks), their channels, and the workers handling this channel's
// deliveries. Delivery tags belong to the channel, so nothing of a session
// outlives it.
type session struct {
	c      *Consumer
	r      *routes
	runCtx context.Context // Run's context: its end starts the graceful shutdown
	ctx    context.Context // handlers' base: cancelled when the session dies or shutdown times out
	cancel context.CancelFunc
	conf   *confirmer
	acks   *acker

	failOnce sync.Once
	failed   chan struct{} // closed when a worker needs the session torn down
	failErr  error
}

// work is one delivery on its way to a worker. With ordering on, the
// dispatcher decodes to find the entity; otherwise workers decode in
// parallel.
type work struct {
	d       amqp.Delivery
	ev      Event
	err     error
	decoded bool
}

func (c *Consumer) dial() (*amqp.Connection, error) {
	conn, err := amqp.DialConfig(c.url, amqp.Config{
		Heartbeat:       c.o.heartbeat,
		TLSClientConfig: c.o.tls,
		Locale:          "en_US",
		Properties:      amqp.Table{"connection_name": "notifykit banqup " + c.queue},
	})
	if err != nil {
		var ae *amqp.Error
		if errors.As(err, &ae) && ae.Code == amqp.AccessRefused {
			return nil, fmt.Errorf("%w: %s", ErrAccessRefused, ae.Reason)
		}
		return nil, fmt.Errorf("banqup: dial: %w", err)
	}
	return conn, nil
}

// session runs one connection lifetime. consumed is how long it was
// consuming; a long one resets the reconnect backoff.
func (c *Consumer) session(runCtx context.Context, r *routes) (consumed time.Duration, err error) {
	consConn, err := c.dial()
	if err != nil {
		return 0, err
	}
	defer consConn.Close()
	pubConn, err := c.dial()
	if err != nil {
		return 0, err
	}
	defer pubConn.Close()

	if err := c.topology(consConn, r.streams); err != nil {
		return 0, err
	}
	pch, err := pubConn.Channel()
	if err != nil {
		return 0, fmt.Errorf("banqup: publish channel: %w", err)
	}
	conf, err := newConfirmer(pch, c.o.confirmTimeout, 2*c.o.prefetch)
	if err != nil {
		return 0, fmt.Errorf("banqup: confirm mode: %w", err)
	}
	cch, err := consConn.Channel()
	if err != nil {
		return 0, fmt.Errorf("banqup: consume channel: %w", err)
	}
	if err := cch.Qos(c.o.prefetch, 0, false); err != nil {
		return 0, fmt.Errorf("banqup: qos: %w", err)
	}
	// Every notification channel is buffered and read below or never
	// written again after its single value: an unread one would block the
	// library's reader goroutine.
	consClosed := consConn.NotifyClose(make(chan *amqp.Error, 1))
	pubClosed := pubConn.NotifyClose(make(chan *amqp.Error, 1))
	chClosed := cch.NotifyClose(make(chan *amqp.Error, 1))
	pchClosed := pch.NotifyClose(make(chan *amqp.Error, 1))
	cancelled := cch.NotifyCancel(make(chan string, 1))

	tag := fmt.Sprintf("notifykit-banqup-%d", time.Now().UnixNano())
	deliveries, err := cch.Consume(c.queue, tag, false, false, false, false, nil)
	if err != nil {
		return 0, topologyError(c.queue, err)
	}
	c.state(StateConsuming, nil)
	began := time.Now()

	hardCtx, cancel := context.WithCancel(context.WithoutCancel(runCtx))
	acks := newAcker(cch, 2*c.o.prefetch+16, func(err error) {
		c.o.logger.Debug("banqup: ack failed, the broker redelivers", "err", err)
	})
	s := &session{c: c, r: r, runCtx: runCtx, ctx: hardCtx, cancel: cancel, conf: conf, acks: acks, failed: make(chan struct{})}
	defer cancel()
	queues, wg := s.startWorkers()

	// Losing any connection or channel ends the session at once, even while
	// the dispatcher waits for a busy worker.
	watchDone := make(chan struct{})
	defer close(watchDone)
	go func() {
		select {
		case e := <-consClosed:
			s.fail(closeCause("connection", e))
		case e := <-chClosed:
			s.fail(closeCause("channel", e))
		case e := <-pubClosed:
			s.fail(closeCause("publish connection", e))
		case e := <-pchClosed:
			s.fail(closeCause("publish channel", e))
		case <-cancelled:
			s.fail(errors.New("broker cancelled the consumer (queue deleted?)"))
		case <-watchDone:
		}
	}()

	var cause error
	graceful := false
loop:
	for {
		select {
		case d, ok := <-deliveries:
			if !ok {
				// The library closes deliveries when the channel dies; the
				// watcher usually has the reason.
				select {
				case <-s.failed:
				case <-time.After(100 * time.Millisecond):
					s.fail(errors.New("delivery channel closed"))
				}
				cause = s.failErr
				break loop
			}
			if !s.dispatch(queues, d) {
				if runCtx.Err() != nil {
					graceful = true
				} else {
					cause = s.failErr
				}
				break loop
			}
		case <-s.failed:
			cause = s.failErr
			break loop
		case <-runCtx.Done():
			graceful = true
			break loop
		}
	}

	if graceful {
		s.shutdown(cch, tag, deliveries, queues, wg)
		acks.close()
		return time.Since(began), nil
	}
	// The channel is gone or about to be: its deliveries will be redelivered,
	// so work on them is cancelled rather than finished.
	cancel()
	closeQueues(queues)
	wg.Wait()
	acks.close()
	return time.Since(began), cause
}

func closeCause(what string, e *amqp.Error) error {
	if e == nil {
		return fmt.Errorf("%s closed", what)
	}
	return fmt.Errorf("%s closed: %w", what, e)
}

func (c *Consumer) topology(conn *amqp.Connection, streams []Stream) error {
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("banqup: topology channel: %w", err)
	}
	// A refused declaration closes this channel; it is ours alone.
	defer ch.Close()
	if c.o.passive {
		return checkTopology(ch, c.queue)
	}
	return declareTopology(ch, c.queue, streams, c.o.queueArgs)
}

var seed = maphash.MakeSeed()

func (s *session) startWorkers() ([]chan work, *sync.WaitGroup) {
	n := s.c.o.concurrency
	var queues []chan work
	if s.c.o.ordered {
		queues = make([]chan work, n)
		per := s.c.o.prefetch/n + 1
		for i := range queues {
			queues[i] = make(chan work, per)
		}
	} else {
		queues = []chan work{make(chan work, s.c.o.prefetch)}
	}
	wg := &sync.WaitGroup{}
	for i := 0; i < n; i++ {
		q := queues[i%len(queues)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for w := range q {
				s.process(w)
			}
		}()
	}
	return queues, wg
}

// dispatch hands d to a worker. It returns false when the session or Run
// ends while waiting for a free worker; d then stays unacked and the broker
// redelivers it.
func (s *session) dispatch(queues []chan work, d amqp.Delivery) bool {
	s.acks.received(d.DeliveryTag)
	w := work{d: d}
	q := queues[0]
	if len(queues) > 1 {
		w.ev, w.err = Decode(d)
		w.decoded = true
		if w.err == nil {
			q = queues[maphash.String(seed, w.ev.orderKey())%uint64(len(queues))]
		}
	}
	select {
	case q <- w:
		return true
	default:
	}
	select {
	case q <- w:
		return true
	case <-s.failed:
	case <-s.runCtx.Done():
	case <-s.ctx.Done():
	}
	return false
}

func closeQueues(queues []chan work) {
	for _, q := range queues {
		close(q)
	}
}

// fail asks the session loop to tear the connection down, so that every
// unacked delivery is redelivered.
func (s *session) fail(err error) {
	s.failOnce.Do(func() {
		s.failErr = err
		close(s.failed)
		s.cancel() // work on this channel's deliveries is moot now
	})
}

// shutdown is the graceful path: cancel the consumer so the broker sends no
// more, hand the deliveries already received to the workers, wait for them
// (bounded), then let the deferred closes requeue whatever is left.
func (s *session) shutdown(ch *amqp.Channel, tag string, deliveries <-chan amqp.Delivery, queues []chan work, wg *sync.WaitGroup) {
	log := s.c.o.logger.With("queue", s.c.queue)
	timer := time.NewTimer(s.c.o.shutdownTimeout)
	defer timer.Stop()
	if err := ch.Cancel(tag, false); err != nil {
		log.Debug("banqup: cancel consumer", "err", err)
	}
	// After basic.cancel-ok the library closes deliveries once its buffer
	// is empty. Handing them over must not outlast the shutdown timeout.
drain:
	for {
		select {
		case d, ok := <-deliveries:
			if !ok {
				break drain
			}
			s.acks.received(d.DeliveryTag)
			w := work{d: d}
			q := queues[0]
			if len(queues) > 1 {
				w.ev, w.err = Decode(d)
				w.decoded = true
				if w.err == nil {
					q = queues[maphash.String(seed, w.ev.orderKey())%uint64(len(queues))]
				}
			}
			select {
			case q <- w:
			case <-timer.C:
				s.cancel()
				break drain
			}
		case <-timer.C:
			s.cancel()
			break drain
		}
	}
	closeQueues(queues)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return
	case <-timer.C:
	}
	log.Warn("banqup: shutdown timeout, cancelling in-flight handlers")
	s.cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		// A handler that ignores its context keeps running; its delivery is
		// requeued when the channel closes and its late ack fails.
		log.Error("banqup: handlers ignored cancellation; closing anyway")
	}
}
