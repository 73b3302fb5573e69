package dsgo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/notifykit/notifykit"
)

// Notification is the object a provider POSTs to a consumer's webhook_url.
//
// Decoding accepts the wiki spelling (resource_type, date,
// subscription_id) and the OpenAPI v2.0 spelling (class, dateTime,
// subscriptionId), and event as one object or an array. Unknown members are
// kept in Extra.
type Notification struct {
	ID             string
	ResourceType   string // "notification" (OAS examples: "object")
	Date           UnixTime
	ConsumerID     string
	ProviderID     string
	SubscriptionID string
	Description    string
	Events         []*Event
	Extra          map[string]json.RawMessage
}

// Event is one event inside a Notification. It implements notifykit.Event,
// so a DSGO event can flow through the same handlers and middlewares as
// every other channel's events.
//
// Field names differ from the wire names where the notifykit.Event method
// set needs the name: EventID is id, EventType is event_type.
type Event struct {
	EventID      string
	ResourceType string // "event" (also seen: "object")
	EventType    string
	Date         UnixTime
	Description  string
	// Data is event_data / eventData as raw JSON (examples show a string).
	Data  json.RawMessage
	Extra map[string]json.RawMessage
	// Notification is the notification that carried the event; decoding
	// sets it. It is not part of the event's JSON.
	Notification *Notification
}

var _ notifykit.Event = (*Event)(nil)
var _ notifykit.EventData = (*Event)(nil)

// ID returns "<notification id>/<event id>": stable across redeliveries of
// the same notification (providers reuse the notification id on retries)
// and unique across notifications even when a provider reuses event ids.
// Without a Notification it is the event id.
func (e *Event) ID() string {
	if e.Notification == nil || e.Notification.ID == "" {
		return e.EventID
	}
	return e.Notification.ID + "/" + e.EventID
}

// Source returns "dsgo".
func (e *Event) Source() string { return "dsgo" }

// Type returns "dsgo.event.<event_type>", the provider-defined type
// lowercased with characters outside [a-z0-9._-] replaced by '_'.
func (e *Event) Type() string {
	t := lowerTrim(e.EventType)
	if t == "" {
		return "dsgo.event"
	}
	return "dsgo.event." + strings.Map(func(r rune) rune {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '.' || r == '_' || r == '-' {
			return r
		}
		return '_'
	}, t)
}

// Subject returns the subscription id of the carrying notification.
func (e *Event) Subject() string {
	if e.Notification == nil {
		return ""
	}
	return e.Notification.SubscriptionID
}

// Time returns when the event happened, or when the notification was sent
// if the event has no date.
func (e *Event) Time() time.Time {
	if e.Date.IsZero() && e.Notification != nil {
		return e.Notification.Date.Time
	}
	return e.Date.Time
}

// EventData returns the raw event_data as "application/json".
func (e *Event) EventData() (string, []byte) { return "application/json", e.Data }

// DataText returns event_data when it is a JSON string (as in every DSGO
// example), and the raw JSON text otherwise.
func (e *Event) DataText() string {
	var s string
	if len(e.Data) > 0 && e.Data[0] == '"' && json.Unmarshal(e.Data, &s) == nil {
		return s
	}
	return string(e.Data)
}

// DecodeNotification decodes and validates a notification body; it is the
// decoder the webhook receiver uses. Errors match ErrDecode or ErrInvalid.
func DecodeNotification(body []byte) (*Notification, error) {
	var n Notification
	// Called directly rather than through json.Unmarshal, which would
	// validate the body once more before handing it over.
	if err := n.UnmarshalJSON(body); err != nil {
		if !errors.Is(err, ErrDecode) {
			err = fmt.Errorf("%w: notification: %v", ErrDecode, err)
		}
		return nil, err
	}
	if err := n.Validate(); err != nil {
		return nil, err
	}
	return &n, nil
}

// UnmarshalJSON decodes any spelling variant and sets each event's
// Notification.
func (n *Notification) UnmarshalJSON(b []byte) error {
	if !fastNotification(b, n) {
		if err := n.decodeGeneral(b); err != nil {
			return err
		}
	}
	for _, e := range n.Events {
		e.Notification = n
	}
	return nil
}

// decodeGeneral is the decoder for every variant; fastNotification must
// agree with it wherever it applies (FuzzFastPathAgrees checks).
func (n *Notification) decodeGeneral(b []byte) error {
	f, err := decodeObject("notification", b)
	if err != nil {
		return err
	}
	var out Notification
	const w = "notification"
	for _, e := range []error{
		f.takeString(w, &out.ID, "id"),
		f.takeString(w, &out.ResourceType, "resource_type", "class", "object_type"),
		f.takeTime(w, &out.Date, "date", "dateTime", "date_time"),
		f.takeString(w, &out.ConsumerID, "consumer_id", "consumerId"),
		f.takeString(w, &out.ProviderID, "provider_id", "providerId"),
		f.takeString(w, &out.SubscriptionID, "subscription_id", "subscriptionId"),
		f.takeString(w, &out.Description, "description"),
		takeEvents(f, &out.Events),
	} {
		if e != nil {
			return e
		}
	}
	out.Extra = f.extra()
	*n = out
	return nil
}

func takeEvents(f fields, dst *[]*Event) error {
	var raw json.RawMessage
	ok, err := f.take("notification", &raw, "event", "events")
	if !ok || err != nil {
		return err
	}
	raw = bytes.TrimSpace(raw)
	if raw[0] == '{' {
		var e Event
		if err := json.Unmarshal(raw, &e); err != nil {
			return err
		}
		*dst = []*Event{&e}
		return nil
	}
	if raw[0] != '[' {
		return fmt.Errorf("%w: notification.event must be an object or an array", ErrDecode)
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return fmt.Errorf("%w: notification.event: %v", ErrDecode, err)
	}
	out := make([]*Event, 0, len(list))
	for _, r := range list {
		var e Event
		if err := json.Unmarshal(r, &e); err != nil {
			return err
		}
		out = append(out, &e)
	}
	*dst = out
	return nil
}

// UnmarshalJSON decodes any spelling variant of an event.
func (e *Event) UnmarshalJSON(b []byte) error {
	if fastEvent(b, e) {
		return nil
	}
	return e.decodeGeneral(b)
}

func (e *Event) decodeGeneral(b []byte) error {
	f, err := decodeObject("event", b)
	if err != nil {
		return err
	}
	var out Event
	const w = "event"
	for _, err := range []error{
		f.takeString(w, &out.EventID, "id"),
		f.takeString(w, &out.ResourceType, "resource_type", "class", "object_type"),
		f.takeString(w, &out.EventType, "event_type", "eventType"),
		f.takeTime(w, &out.Date, "date", "dateTime", "date_time"),
		f.takeString(w, &out.Description, "description"),
		take2(f.take(w, &out.Data, "event_data", "eventData")),
	} {
		if err != nil {
			return err
		}
	}
	out.Extra = f.extra()
	*e = out
	return nil
}

// Validate checks what the receiver requires: id, sent time, consumer_id,
// provider_id, subscription id and at least one event with an id and an
// event_type; a discriminator, when present, must be "notification" (or
// "object", which the OpenAPI examples use), and "event"/"object" on events.
// Errors match ErrInvalid.
func (n *Notification) Validate() error {
	var missing []string
	for _, c := range []struct{ name, v string }{
		{"id", n.ID}, {"consumer_id", n.ConsumerID}, {"provider_id", n.ProviderID},
		{"subscription_id", n.SubscriptionID},
	} {
		if strings.TrimSpace(c.v) == "" {
			missing = append(missing, c.name)
		}
	}
	if n.Date.IsZero() {
		missing = append(missing, "date")
	}
	if len(n.Events) == 0 {
		missing = append(missing, "event")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: notification lacks %s", ErrInvalid, strings.Join(missing, ", "))
	}
	if rt := n.ResourceType; rt != "" && rt != ResourceNotification && rt != "object" {
		return fmt.Errorf("%w: notification resource_type %q", ErrInvalid, rt)
	}
	for i, e := range n.Events {
		if e == nil {
			return fmt.Errorf("%w: notification event %d is null", ErrInvalid, i)
		}
		if strings.TrimSpace(e.EventID) == "" || strings.TrimSpace(e.EventType) == "" {
			return fmt.Errorf("%w: notification event %d lacks id or event_type", ErrInvalid, i)
		}
		if rt := e.ResourceType; rt != "" && rt != ResourceEvent && rt != "object" {
			return fmt.Errorf("%w: event %d resource_type %q", ErrInvalid, i, rt)
		}
	}
	return nil
}

// MarshalJSON encodes in DialectWiki.
func (n Notification) MarshalJSON() ([]byte, error) { return n.Encode(DialectWiki) }

// Encode writes n in dialect d; event is always an array.
func (n *Notification) Encode(d Dialect) ([]byte, error) {
	w := newObjWriter()
	oas := d == DialectOAS
	w.val("id", n.ID)
	w.val(pick(oas, "class", "resource_type"), orDefault(n.ResourceType, ResourceNotification))
	w.raw(pick(oas, "dateTime", "date"), encodeTime(n.Date, d))
	w.val("consumer_id", n.ConsumerID)
	w.val("provider_id", n.ProviderID)
	w.val(pick(oas, "subscriptionId", "subscription_id"), n.SubscriptionID)
	w.str("description", n.Description)
	evs := make([]json.RawMessage, 0, len(n.Events))
	for _, e := range n.Events {
		b, err := e.Encode(d)
		if err != nil {
			return nil, err
		}
		evs = append(evs, b)
	}
	w.val("event", evs)
	w.extras(n.Extra)
	return w.bytes()
}

// MarshalJSON encodes in DialectWiki.
func (e Event) MarshalJSON() ([]byte, error) { return e.Encode(DialectWiki) }

// Encode writes e in dialect d.
func (e *Event) Encode(d Dialect) ([]byte, error) {
	w := newObjWriter()
	oas := d == DialectOAS
	w.val("id", e.EventID)
	w.val(pick(oas, "class", "resource_type"), orDefault(e.ResourceType, ResourceEvent))
	w.val("event_type", e.EventType)
	w.raw(pick(oas, "dateTime", "date"), encodeTime(e.Date, d))
	w.str("description", e.Description)
	if len(e.Data) > 0 {
		if !json.Valid(e.Data) {
			return nil, fmt.Errorf("dsgo: encode event %s: event_data is not valid JSON", e.EventID)
		}
		w.raw(pick(oas, "eventData", "event_data"), e.Data)
	}
	w.extras(e.Extra)
	return w.bytes()
}

func pick(cond bool, a, b string) string {
	if cond {
		return a
	}
	return b
}
