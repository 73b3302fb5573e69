package kreditsmart

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"strings"
	"time"

	"github.com/eclipse/paho.golang/paho"
)

// overlapGrace keeps duplicate suppression on after the old filter was
// unsubscribed: copies the broker queued before the UNSUBACK may still be
// on their way.
const overlapGrace = 2 * time.Second

// overlap tracks a topic switch. While both the old and the new filters are
// subscribed, a message under both trees may arrive twice (the MQTT 5 spec
// allows one copy per matching subscription); the second copy is dropped.
type overlap struct {
	old, new Partnerbaum
	parent   bool
	until    time.Time // zero while both are subscribed
	seen     map[[32]byte]bool
}

// duplicate reports whether p is the second copy of an overlap message.
// Called from the single paho routing goroutine, under s.mu.
func (s *Subscriber) duplicate(p *paho.Publish) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ov := s.overlap
	if ov == nil {
		return false
	}
	if !ov.until.IsZero() && time.Now().After(ov.until) {
		s.overlap = nil
		return false
	}
	if !matchesTopic(ov.old, ov.parent, p.Topic) || !matchesTopic(ov.new, ov.parent, p.Topic) {
		return false
	}
	h := sha256.New()
	h.Write([]byte(p.Topic))
	h.Write([]byte{0})
	h.Write(p.Payload)
	var k [32]byte
	copy(k[:], h.Sum(nil))
	if ov.seen[k] {
		delete(ov.seen, k) // a third, genuine copy passes
		return true
	}
	ov.seen[k] = true
	return false
}

// onPublish receives every PUBLISH on paho's routing goroutine, in order.
func (s *Subscriber) onPublish(pr paho.PublishReceived) (bool, error) {
	p := pr.Packet
	manual := s.pool && pr.Client != nil
	ack := func() {
		if manual {
			_ = pr.Client.Ack(p)
		}
	}
	if strings.HasPrefix(p.Topic, "$aws/") {
		s.onShadowMessage(p.Topic, p.Payload)
		ack()
		return true, nil
	}
	if s.duplicate(p) {
		ack()
		return true, nil
	}
	n, err := Decode(p.Payload)
	if err != nil {
		raw := p.Payload
		if len(raw) > MaxPayloadBytes {
			raw = raw[:MaxPayloadBytes]
		}
		s.report(&PayloadError{Topic: p.Topic, Raw: append([]byte(nil), raw...), Err: err})
		ack()
		return true, nil
	}
	n.Topic, n.Channel, n.ReceivedAt = p.Topic, ChannelMQTT, time.Now()
	if s.coalescer != nil {
		s.coalescer.add(n, ack)
		return true, nil
	}
	ctx := s.handlerCtx()
	if !s.pool {
		// One at a time on the routing goroutine; paho acknowledges when
		// we return, that is after the handler.
		s.handle(ctx, n)
		return true, nil
	}
	s.sem <- struct{}{} // bounded: a full pool holds back reading, so the broker's in-flight window applies
	s.work.Add(1)
	go func() {
		defer s.work.Done()
		s.handle(ctx, n)
		ack()
		<-s.sem
	}()
	return true, nil
}

// handlerCtx is Run's context: handlers see shutdown.
func (s *Subscriber) handlerCtx() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.runCtx == nil {
		return context.Background()
	}
	return s.runCtx
}

func (s *Subscriber) handle(ctx context.Context, n *Notification) {
	if err := call(ctx, s.notify, n, s.o); err != nil {
		s.report(err)
	}
}

// onShadowMessage routes shadow answers and update/documents.
func (s *Subscriber) onShadowMessage(topic string, payload []byte) {
	if s.prefix == "" || !strings.HasPrefix(topic, s.prefix+"/") {
		return
	}
	switch strings.TrimPrefix(topic, s.prefix+"/") {
	case "get/accepted", "get/rejected":
		s.onShadowReply(topic, payload)
	case "update/documents":
		var r shadowReply
		if err := json.Unmarshal(payload, &r); err != nil || len(r.Current) == 0 {
			return
		}
		doc := append([]byte(nil), r.Current...)
		s.mu.Lock()
		ctx, gen, cm := s.runCtx, s.gen, s.cm
		s.mu.Unlock()
		if ctx == nil || cm == nil {
			return
		}
		// Do not block the routing goroutine: SUBSCRIBE waits for SUBACK,
		// which this goroutine must be free to deliver.
		s.bg.Add(1)
		go func() {
			defer s.bg.Done()
			s.follow(ctx, gen, doc)
		}()
	}
}

// reread polls the shadow for topic changes when update/documents is not
// available or not trusted alone.
func (s *Subscriber) reread(ctx context.Context) {
	defer s.bg.Done()
	t := time.NewTicker(s.o.rereadInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.mu.Lock()
		gen, cm, subscribed := s.gen, s.cm, s.topic != ""
		s.mu.Unlock()
		if !subscribed || cm == nil {
			continue
		}
		var doc []byte
		var err error
		if s.o.shadowHTTPS {
			doc, err = s.fetchShadowHTTPS(ctx)
		} else {
			doc, err = s.fetchShadowMQTT(ctx, cm)
		}
		if err != nil {
			if ctx.Err() == nil {
				s.report(err)
			}
			continue
		}
		s.follow(ctx, gen, doc)
	}
}

// follow moves to the topic doc names, if it differs from the current one:
// SUBSCRIBE the new filters first, then UNSUBSCRIBE the old ones, so that
// nothing under the new tree is missed; duplicates in the overlap are
// dropped.
func (s *Subscriber) follow(ctx context.Context, gen int, doc []byte) {
	topic, err := s.topicFrom(doc)
	if err != nil {
		s.report(err)
		return
	}
	s.subMu.Lock()
	defer s.subMu.Unlock()
	s.mu.Lock()
	old, cm, live := s.topic, s.cm, s.gen == gen && s.up
	gaveUp := s.rejected[topic] != nil
	s.mu.Unlock()
	if !live || old == "" || old == topic || cm == nil {
		return
	}
	if gaveUp {
		s.report(&SubscriptionError{Topic: topic, Reason: "the shadow names a topic the broker rejected before; staying on " + string(old)})
		return
	}
	newFilters, err := s.filters(topic)
	if err != nil {
		s.report(err)
		return
	}
	oldFilters, _ := s.filters(old)
	s.mu.Lock()
	s.overlap = &overlap{old: old, new: topic, parent: s.o.subscribeParent, seen: make(map[[32]byte]bool)}
	s.mu.Unlock()
	if err := s.subscribe(ctx, cm, gen, topic, newFilters); err != nil {
		s.mu.Lock()
		s.overlap = nil
		if se, ok := err.(*SubscriptionError); ok {
			s.rejected[topic] = se
		}
		s.mu.Unlock()
		if err != errConnGone {
			s.report(err)
		}
		return
	}
	at := time.Now()
	s.mu.Lock()
	s.topic, s.lastTopic = topic, topic
	s.mu.Unlock()
	if s.o.overlapHold > 0 {
		_ = sleep(ctx, s.o.overlapHold)
	}
	var drop []string
	for _, f := range oldFilters {
		keep := false
		for _, n := range newFilters {
			keep = keep || f == n
		}
		if !keep {
			drop = append(drop, f)
		}
	}
	if len(drop) > 0 {
		uctx, cancel := context.WithTimeout(ctx, s.o.subscribeTO)
		if _, err := cm.Unsubscribe(uctx, &paho.Unsubscribe{Topics: drop}); err != nil && ctx.Err() == nil {
			s.report(err)
		}
		cancel()
	}
	s.mu.Lock()
	if s.overlap != nil {
		s.overlap.until = time.Now().Add(overlapGrace)
	}
	s.mu.Unlock()
	s.emitTopicChange(ctx, &TopicChange{Old: old, New: topic, At: at, Client: s.clientID})
}
