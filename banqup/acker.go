package banqup

import "time"

// straggleDelay is how long a completed delivery may wait for an earlier
// one to complete, so that one multiple-ack covers both, before it is acked
// on its own.
const straggleDelay = 2 * time.Millisecond

// acker acknowledges the deliveries of one channel. Handlers run in
// parallel and complete out of order; acking each delivery costs the broker
// a frame, so the acker sends one multiple-ack for everything below the
// oldest delivery still open, and acks completed deliveries above it
// individually after straggleDelay so that a slow message (a handler in
// retry backoff) never holds back the prefetch window.
//
// Correctness rests on the open set: every delivery is registered as open
// when it is received, before any worker sees it, and leaves the set only
// when it completes (handled, or moved to an error queue with a confirmed
// copy). A delivery left for redelivery never completes, so it stays open
// and no multiple-ack ever covers it. Memory is bounded by the prefetch
// count: open and completed-but-unacked deliveries are all unacked.
type acker struct {
	ch   ackChannel
	in   chan ackEvent
	stop chan struct{}
	done chan struct{}
	log  func(error)
}

type ackEvent struct {
	tag      uint64
	received bool // true: delivery received (open); false: completed
}

// ackChannel is the part of *amqp.Channel the acker uses.
type ackChannel interface {
	Ack(tag uint64, multiple bool) error
}

func newAcker(ch ackChannel, capacity int, log func(error)) *acker {
	a := &acker{ch: ch, in: make(chan ackEvent, capacity), stop: make(chan struct{}), done: make(chan struct{}), log: log}
	go a.run()
	return a
}

// received registers a delivery as open. The dispatcher calls it before
// handing the delivery to a worker.
func (a *acker) received(tag uint64) { a.send1(ackEvent{tag: tag, received: true}) }

// ack marks a delivery complete; it will be acknowledged shortly.
func (a *acker) ack(tag uint64) { a.send1(ackEvent{tag: tag}) }

// send1 queues ev; after close it is dropped (a handler that outlived the
// shutdown has nobody left to ack for it).
func (a *acker) send1(ev ackEvent) {
	select {
	case a.in <- ev:
	case <-a.stop:
	}
}

// close acks what completed and stops the acker. Call it after the
// dispatcher and the workers stopped.
func (a *acker) close() {
	close(a.stop)
	<-a.done
}

type ackState struct {
	open      map[uint64]struct{}
	minOpen   uint64 // valid when open is not empty
	maxSeen   uint64
	completed map[uint64]struct{} // completed, not yet acked
}

func (a *acker) run() {
	defer close(a.done)
	st := &ackState{open: map[uint64]struct{}{}, completed: map[uint64]struct{}{}}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	timerOn := false
	drain := func() {
		for {
			select {
			case ev := <-a.in:
				st.apply(ev)
			default:
				return
			}
		}
	}
	for {
		select {
		case <-a.stop:
			drain()
			a.flush(st)
			a.stragglers(st)
			return
		case ev := <-a.in:
			st.apply(ev)
			drain() // take everything already queued: one ack for the lot
			a.flush(st)
			if len(st.completed) > 0 && !timerOn {
				timer.Reset(straggleDelay)
				timerOn = true
			}
		case <-timer.C:
			timerOn = false
			a.flush(st)
			a.stragglers(st)
		}
	}
}

func (st *ackState) apply(ev ackEvent) {
	if ev.received {
		if len(st.open) == 0 || ev.tag < st.minOpen {
			st.minOpen = ev.tag
		}
		st.open[ev.tag] = struct{}{}
		st.maxSeen = max(st.maxSeen, ev.tag)
		return
	}
	if _, ok := st.open[ev.tag]; !ok {
		return // not ours (cannot happen); never ack what was not registered
	}
	delete(st.open, ev.tag)
	st.completed[ev.tag] = struct{}{}
	if ev.tag == st.minOpen && len(st.open) > 0 {
		first := true
		for t := range st.open {
			if first || t < st.minOpen {
				st.minOpen, first = t, false
			}
		}
	}
}

// flush sends one multiple-ack for every completed delivery below the
// oldest open one. The ack names the highest such delivery: RabbitMQ
// requires the tag of a multiple-ack to be outstanding (an already acked
// tag is "unknown" and closes the channel).
func (a *acker) flush(st *ackState) {
	frontier := st.maxSeen
	if len(st.open) > 0 {
		frontier = st.minOpen - 1
	}
	var top uint64
	for t := range st.completed {
		if t <= frontier {
			top = max(top, t)
			delete(st.completed, t)
		}
	}
	if top > 0 {
		a.send(top, true)
	}
}

// stragglers acks the completed deliveries above the oldest open one
// individually.
func (a *acker) stragglers(st *ackState) {
	for t := range st.completed {
		a.send(t, false)
		delete(st.completed, t)
	}
}

func (a *acker) send(tag uint64, multiple bool) {
	if err := a.ch.Ack(tag, multiple); err != nil {
		// The channel died: the broker redelivers its unacked deliveries,
		// which must not be acked on any other channel.
		a.log(err)
	}
}
