package dsgo

import (
	"encoding/json"
	"strings"

	"github.com/notifykit/notifykit/internal/lenient"
)

// The webhook decodes every notification, so the common case gets a fast
// path: when every member of an object has a name this package knows, it
// is decoded in one pass into a struct holding all spellings. Objects with
// unknown members (kept in Extra), numbers where strings belong, or
// anything odd take the general path, which also produces the errors.

type notificationHead struct {
	ID             string `json:"id"`
	ResourceType   string `json:"resource_type"`
	Class          string `json:"class"`
	ObjectType     string `json:"object_type"`
	Date           string `json:"date"`
	DateTime       string `json:"dateTime"`
	DateTime2      string `json:"date_time"`
	ConsumerID     string `json:"consumer_id"`
	ConsumerID2    string `json:"consumerId"`
	ProviderID     string `json:"provider_id"`
	ProviderID2    string `json:"providerId"`
	SubscriptionID string `json:"subscription_id"`
	SubscriptionI2 string `json:"subscriptionId"`
	Description    string `json:"description"`
}

// Two shapes, because event may be an array or a single object; the key
// scan tells which one applies before the single decoding pass.
type notificationArray struct {
	notificationHead
	Event  []eventWire `json:"event"`
	Events []eventWire `json:"events"`
}

type notificationObject struct {
	notificationHead
	Event  *eventWire `json:"event"`
	Events *eventWire `json:"events"`
}

func knownNotificationKey(k []byte) bool {
	switch string(k) { // no allocation for a switch on string(bytes)
	case "id", "resource_type", "class", "object_type", "date", "dateTime", "date_time", "consumer_id", "consumerId",
		"provider_id", "providerId", "subscription_id", "subscriptionId", "description", "event", "events":
		return true
	}
	return false
}

type eventWire struct {
	ID           string          `json:"id"`
	ResourceType string          `json:"resource_type"`
	Class        string          `json:"class"`
	ObjectType   string          `json:"object_type"`
	EventType    string          `json:"event_type"`
	EventType2   string          `json:"eventType"`
	Date         string          `json:"date"`
	DateTime     string          `json:"dateTime"`
	DateTime2    string          `json:"date_time"`
	Description  string          `json:"description"`
	EventData    json.RawMessage `json:"event_data"`
	EventData2   json.RawMessage `json:"eventData"`
}

func knownEventKey(k []byte) bool {
	switch string(k) {
	case "id", "resource_type", "class", "object_type", "event_type", "eventType", "date", "dateTime", "date_time",
		"description", "event_data", "eventData":
		return true
	}
	return false
}

// fastNotification decodes b if the fast path applies and reports whether
// it did.
func fastNotification(b []byte, n *Notification) bool {
	var shape byte
	ok := scanObject(b, func(k, v []byte) bool {
		if !knownNotificationKey(k) {
			return false
		}
		if ks := string(k); ks != "event" && ks != "events" {
			return true
		}
		if shape != 0 || len(v) == 0 {
			return false // both spellings present: let the general path decide
		}
		shape = v[0]
		switch shape {
		case '{':
			return scanObject(v, knownOnly(knownEventKey))
		case '[':
			return scanArrayOfObjects(v, knownOnly(knownEventKey))
		}
		return false
	})
	if !ok {
		return false
	}
	var head *notificationHead
	var events []*Event
	switch shape {
	case '[':
		var w notificationArray
		if json.Unmarshal(b, &w) != nil {
			return false
		}
		head = &w.notificationHead
		list := w.Event
		if list == nil {
			list = w.Events
		}
		events = make([]*Event, len(list))
		for i := range list {
			if events[i], ok = list[i].event(); !ok {
				return false
			}
		}
	default:
		var w notificationObject
		if json.Unmarshal(b, &w) != nil {
			return false
		}
		head = &w.notificationHead
		one := w.Event
		if one == nil {
			one = w.Events
		}
		if one != nil {
			e, ok := one.event()
			if !ok {
				return false
			}
			events = []*Event{e}
		}
	}
	date, ok := wireTime(head.Date, head.DateTime, head.DateTime2)
	if !ok {
		return false
	}
	*n = Notification{
		ID:             first(head.ID),
		ResourceType:   first(head.ResourceType, head.Class, head.ObjectType),
		Date:           date,
		ConsumerID:     first(head.ConsumerID, head.ConsumerID2),
		ProviderID:     first(head.ProviderID, head.ProviderID2),
		SubscriptionID: first(head.SubscriptionID, head.SubscriptionI2),
		Description:    first(head.Description),
		Events:         events,
	}
	return true
}

func knownOnly(known func([]byte) bool) func(k, v []byte) bool {
	return func(k, _ []byte) bool { return known(k) }
}

func (w *eventWire) event() (*Event, bool) {
	date, ok := wireTime(w.Date, w.DateTime, w.DateTime2)
	if !ok {
		return nil, false
	}
	data := pickRaw(w.EventData, w.EventData2)
	return &Event{
		EventID:      first(w.ID),
		ResourceType: first(w.ResourceType, w.Class, w.ObjectType),
		EventType:    first(w.EventType, w.EventType2),
		Date:         date,
		Description:  first(w.Description),
		Data:         data,
	}, true
}

func fastEvent(b []byte, e *Event) bool {
	if !scanObject(b, knownOnly(knownEventKey)) {
		return false
	}
	var w eventWire
	if json.Unmarshal(b, &w) != nil {
		return false
	}
	ev, ok := w.event()
	if !ok {
		return false
	}
	*e = *ev
	return true
}

// first mirrors fields.takeString: the first non-blank value, else "".
func first(s ...string) string {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// pickRaw mirrors fields.take: the first non-null, non-blank value, else
// the first blank one, else nil.
func pickRaw(vs ...json.RawMessage) json.RawMessage {
	for _, v := range vs {
		if !isNull(v) && !isBlankString(v) {
			return v
		}
	}
	for _, v := range vs {
		if !isNull(v) {
			return v
		}
	}
	return nil
}

// wireTime mirrors fields.takeTime for timestamps the fast path read as
// JSON strings (numbers send it to the general path): the first non-zero
// one wins; any unparsable one fails the fast path.
func wireTime(vals ...string) (UnixTime, bool) {
	var out UnixTime
	for _, v := range vals {
		var t UnixTime
		if t0, ok := unixDigits([]byte(v)); ok {
			t.Time = t0
		} else if strings.TrimSpace(v) != "" {
			p, err := lenient.ParseTime(v)
			if err != nil {
				return UnixTime{}, false
			}
			t.Time = p.UTC()
		}
		if out.IsZero() {
			out = t
		}
	}
	return out, true
}

// scanObject calls f with the name and raw value of each member of the
// JSON object b, and reports whether b looked like an object and f
// accepted every member. Names with escapes are refused. Values are only
// skipped, not validated: json.Unmarshal does that afterwards.
func scanObject(b []byte, f func(key, val []byte) bool) bool {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return true
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return false
		}
		j := i + 1
		for j < len(b) && b[j] != '"' {
			if b[j] == '\\' {
				return false
			}
			j++
		}
		if j >= len(b) {
			return false
		}
		key := b[i+1 : j]
		i = skipWS(b, j+1)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		vs := skipWS(b, i+1)
		ve := skipValue(b, vs)
		if ve < 0 || !f(key, b[vs:ve]) {
			return false
		}
		i = skipWS(b, ve)
		if i >= len(b) {
			return false
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case '}':
			return true
		default:
			return false
		}
	}
}

// scanArrayOfObjects applies scanObject to every element of the array b,
// which must all be objects.
func scanArrayOfObjects(b []byte, f func(k, v []byte) bool) bool {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '[' {
		return false
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return true
	}
	for {
		if i >= len(b) || b[i] != '{' {
			return false
		}
		end := skipValue(b, i)
		if end < 0 || !scanObject(b[i:end], f) {
			return false
		}
		i = skipWS(b, end)
		if i >= len(b) {
			return false
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case ']':
			return true
		default:
			return false
		}
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the index after the value starting at i, or -1. It
// trusts the JSON to be valid; json.Unmarshal checks that afterwards.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				if i = skipString(b, i); i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	default: // number, true, false, null
		for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
			i++
		}
		return i
	}
}

// skipString returns the index after the string starting at i, or -1.
func skipString(b []byte, i int) int {
	for i++; i < len(b); {
		switch b[i] {
		case '\\':
			i += 2
		case '"':
			return i + 1
		default:
			i++
		}
	}
	return -1
}
