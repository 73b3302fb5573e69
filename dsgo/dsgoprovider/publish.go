package dsgoprovider

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/notifykit/notifykit/dsgo"
)

// Publish notifies every active subscription that subscribed to at least
// one of events' types: each gets one notification holding its matching
// events, queued durably in the store before Publish returns, then sent by
// Run. Events without an EventID or Date get one. It returns the
// notification ids.
func (s *Server) Publish(ctx context.Context, events ...dsgo.Event) ([]string, error) {
	now := s.o.now()
	evs := make([]*dsgo.Event, len(events))
	for i := range events {
		e := events[i]
		if e.EventType == "" {
			return nil, fmt.Errorf("%w: event %d has no event type", dsgo.ErrInvalid, i)
		}
		if e.EventID == "" {
			e.EventID = newID("eve_")
		}
		if e.Date.IsZero() {
			e.Date = dsgo.Unix(now)
		}
		e.ResourceType, e.Notification = dsgo.ResourceEvent, nil
		evs[i] = &e
	}
	subs, err := s.store.ListSubscriptions(ctx, "")
	if err != nil {
		return nil, err
	}
	var batch []Delivery
	var ids []string
	for i := range subs {
		sub := &subs[i]
		if sub.Status != dsgo.StatusActive || sub.StartDate.After(now) || expired(sub, now) {
			continue
		}
		var match []*dsgo.Event
		for _, e := range evs {
			if slices.Contains(sub.EventTypes, e.EventType) {
				match = append(match, e)
			}
		}
		if len(match) == 0 {
			continue
		}
		d, err := s.delivery(sub, match, now)
		if err != nil {
			return nil, err
		}
		batch = append(batch, d)
		ids = append(ids, d.NotificationID)
	}
	if len(batch) == 0 {
		return nil, nil
	}
	if err := s.store.EnqueueDeliveries(ctx, batch); err != nil {
		return nil, err
	}
	s.poke()
	return ids, nil
}

func (s *Server) enqueue(ctx context.Context, sub *dsgo.Subscription, evs []*dsgo.Event, now time.Time) (string, error) {
	d, err := s.delivery(sub, evs, now)
	if err != nil {
		return "", err
	}
	if err := s.store.EnqueueDeliveries(ctx, []Delivery{d}); err != nil {
		return "", err
	}
	s.poke()
	return d.NotificationID, nil
}

func (s *Server) delivery(sub *dsgo.Subscription, evs []*dsgo.Event, now time.Time) (Delivery, error) {
	n := &dsgo.Notification{ID: newID("not_"), ResourceType: dsgo.ResourceNotification, Date: dsgo.Unix(now),
		ConsumerID: sub.ConsumerID, ProviderID: s.ownID, SubscriptionID: sub.ID, Events: evs}
	body, err := n.Encode(s.o.dialect)
	if err != nil {
		return Delivery{}, err
	}
	return Delivery{NotificationID: n.ID, SubscriptionID: sub.ID, ConsumerID: sub.ConsumerID,
		WebhookURL: sub.WebhookURL, Body: body, CreatedAt: now, NextAttempt: now}, nil
}

// poke wakes the dispatcher without blocking.
func (s *Server) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}
