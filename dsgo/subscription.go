package dsgo

import (
	"encoding/json"
	"fmt"
)

// Status is a subscription's lifecycle phase.
type Status string

// The two lifecycle phases. inactive is terminal: there is no way back to
// active; to change a subscription, delete it and create a new one.
const (
	StatusActive   Status = "active"
	StatusInactive Status = "inactive"
)

// ResourceType discriminators.
const (
	ResourceSubscription = "subscription"
	ResourceNotification = "notification"
	ResourceEvent        = "event"
)

// Subscription is the DSGO subscription resource.
//
// Decoding accepts url or href, resource_type or class, end_date or
// endDateTime, and every timestamp form UnixTime reads. Members this type
// does not know are kept in Extra and written back on encoding.
type Subscription struct {
	ID           string
	ResourceType string // "subscription"
	// URL is the subscription's own URL (wire: url, href).
	URL         string
	CreatedDate UnixTime
	StartDate   UnixTime
	EndDate     UnixTime // zero when the subscription has no end
	ConsumerID  string
	ProviderID  string
	Description string
	// EventTypes are the subscribed event types (wire: event_type), passed
	// through unchanged.
	EventTypes []string
	Status     Status
	WebhookURL string
	Extra      map[string]json.RawMessage
}

// UnmarshalJSON decodes any spelling variant.
func (s *Subscription) UnmarshalJSON(b []byte) error {
	f, err := decodeObject("subscription", b)
	if err != nil {
		return err
	}
	var out Subscription
	const w = "subscription"
	for _, e := range []error{
		f.takeString(w, &out.ID, "id"),
		f.takeString(w, &out.ResourceType, "resource_type", "class"),
		f.takeString(w, &out.URL, "url", "href"),
		f.takeTime(w, &out.CreatedDate, "created_date", "createdDate", "createdDateTime"),
		f.takeTime(w, &out.StartDate, "start_date", "startDate", "startDateTime"),
		f.takeTime(w, &out.EndDate, "end_date", "endDate", "endDateTime"),
		f.takeString(w, &out.ConsumerID, "consumer_id", "consumerId"),
		f.takeString(w, &out.ProviderID, "provider_id", "providerId"),
		f.takeString(w, &out.Description, "description"),
		takeEventTypes(f, &out.EventTypes),
		take2(f.take(w, &out.Status, "status")),
		f.takeString(w, &out.WebhookURL, "webhook_url", "webhookUrl"),
	} {
		if e != nil {
			return e
		}
	}
	out.Extra = f.extra()
	*s = out
	return nil
}

func take2(_ bool, err error) error { return err }

// takeEventTypes reads event_type as a list, or a single string.
func takeEventTypes(f fields, dst *[]string) error {
	var raw json.RawMessage
	ok, err := f.take("subscription", &raw, "event_type", "eventType", "event_types")
	if !ok || err != nil {
		return err
	}
	if raw[0] == '"' {
		var one string
		if err := json.Unmarshal(raw, &one); err != nil {
			return fmt.Errorf("%w: subscription.event_type: %v", ErrDecode, err)
		}
		*dst = []string{one}
		return nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("%w: subscription.event_type: %v", ErrDecode, err)
	}
	return nil
}

// MarshalJSON encodes in DialectWiki.
func (s Subscription) MarshalJSON() ([]byte, error) { return s.Encode(DialectWiki) }

// Encode writes s in dialect d. DialectWiki and DialectWikiISO write both
// url and href, since current and older wiki readers look for different
// ones; DialectOAS writes href.
func (s *Subscription) Encode(d Dialect) ([]byte, error) {
	w := newObjWriter()
	w.val("id", s.ID)
	w.val("resource_type", orDefault(s.ResourceType, ResourceSubscription))
	if d != DialectOAS {
		w.val("url", s.URL)
	}
	w.val("href", s.URL)
	w.raw("created_date", encodeTime(s.CreatedDate, d))
	w.raw("start_date", encodeTime(s.StartDate, d))
	w.raw("end_date", encodeTime(s.EndDate, d))
	w.val("consumer_id", s.ConsumerID)
	w.val("provider_id", s.ProviderID)
	w.str("description", s.Description)
	w.val("event_type", nonNil(s.EventTypes))
	w.val("status", s.Status)
	w.val("webhook_url", s.WebhookURL)
	w.extras(s.Extra)
	return w.bytes()
}

// SubscriptionCreate is the body of POST /subscriptions. The provider sets
// id, status, created_date and consumer_id itself.
type SubscriptionCreate struct {
	// ResourceType is "subscription"; decoding records what was sent
	// (providers require it), encoding always writes "subscription".
	ResourceType string
	EventTypes   []string
	WebhookURL   string
	StartDate    UnixTime // zero: now
	EndDate      UnixTime // zero: no end
	Description  string
	Extra        map[string]json.RawMessage
}

// MarshalJSON writes the wiki request shape.
func (c SubscriptionCreate) MarshalJSON() ([]byte, error) {
	w := newObjWriter()
	w.val("resource_type", ResourceSubscription)
	w.val("event_type", nonNil(c.EventTypes))
	w.val("webhook_url", c.WebhookURL)
	if !c.StartDate.IsZero() {
		w.raw("start_date", encodeTime(c.StartDate, DialectWiki))
	}
	w.raw("end_date", encodeTime(c.EndDate, DialectWiki))
	w.str("description", c.Description)
	w.extras(c.Extra)
	return w.bytes()
}

// UnmarshalJSON decodes any spelling variant; members a provider ignores
// (id, status, created_date, consumer_id) land in Extra.
func (c *SubscriptionCreate) UnmarshalJSON(b []byte) error {
	f, err := decodeObject("subscription creation", b)
	if err != nil {
		return err
	}
	var out SubscriptionCreate
	var rt string
	const w = "subscription creation"
	for _, e := range []error{
		f.takeString(w, &rt, "resource_type", "class"),
		takeEventTypes(f, &out.EventTypes),
		f.takeString(w, &out.WebhookURL, "webhook_url", "webhookUrl"),
		f.takeTime(w, &out.StartDate, "start_date", "startDate", "startDateTime"),
		f.takeTime(w, &out.EndDate, "end_date", "endDate", "endDateTime"),
		f.takeString(w, &out.Description, "description"),
	} {
		if e != nil {
			return e
		}
	}
	if rt != "" && rt != ResourceSubscription {
		return fmt.Errorf("%w: resource_type %q, want %q", ErrInvalid, rt, ResourceSubscription)
	}
	out.ResourceType = rt
	out.Extra = f.extra()
	*c = out
	return nil
}

// SubscriptionList is the body of GET /subscriptions. Pagination members
// some registries add (totalCount, next, ...) are kept in Extra.
type SubscriptionList struct {
	Count         int
	Subscriptions []Subscription
	Extra         map[string]json.RawMessage
}

// UnmarshalJSON accepts count as a number or string and subscriptions under
// subscriptions, data or items.
func (l *SubscriptionList) UnmarshalJSON(b []byte) error {
	f, err := decodeObject("subscription list", b)
	if err != nil {
		return err
	}
	var out SubscriptionList
	var count string
	if err := f.takeString("subscription list", &count, "count"); err != nil {
		return err
	}
	if count != "" {
		if _, err := fmt.Sscan(count, &out.Count); err != nil {
			return fmt.Errorf("%w: subscription list count %q", ErrDecode, count)
		}
	}
	if _, err := f.take("subscription list", &out.Subscriptions, "subscriptions", "data", "items"); err != nil {
		return err
	}
	if count == "" {
		out.Count = len(out.Subscriptions)
	}
	out.Extra = f.extra()
	*l = out
	return nil
}

// MarshalJSON writes {"count": N, "subscriptions": [...]}.
func (l SubscriptionList) MarshalJSON() ([]byte, error) {
	w := newObjWriter()
	w.val("count", l.Count)
	subs := l.Subscriptions
	if subs == nil {
		subs = []Subscription{}
	}
	w.val("subscriptions", subs)
	w.extras(l.Extra)
	return w.bytes()
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
