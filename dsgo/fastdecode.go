package dsgo

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/notifykit/notifykit/internal/lenient"
)

// The webhook decodes every notification, so the common case gets a fast
// path: once json.Valid has checked the body, a single walk over the
// members assigns plain strings directly, without reflection. It applies
// when every member name is known and every value has the expected JSON
// type; objects with unknown members (kept in Extra), numbers where strings
// belong, or anything odd take the general path, which also produces the
// errors. FuzzFastPathAgrees keeps the two in agreement.

type notificationHead struct {
	ID, ResourceType, Class, ObjectType   string
	Date, DateTime, DateTime2             string
	ConsumerID, ConsumerID2               string
	ProviderID, ProviderID2               string
	SubscriptionID, SubscriptionI2, Descr string
	events                                []byte // raw "event" or "events"
	sawEvents                             bool
}

type eventWire struct {
	ID, ResourceType, Class, ObjectType string
	EventType, EventType2               string
	Date, DateTime, DateTime2           string
	Description                         string
	EventData, EventData2               []byte
}

// fastNotification decodes b if the fast path applies and reports whether
// it did.
func fastNotification(b []byte, n *Notification) bool {
	if !json.Valid(b) {
		return false
	}
	var h notificationHead
	ok := scanObject(b, func(k, v []byte) bool {
		switch string(k) { // no allocation for a switch on string(bytes)
		case "id":
			return str(v, &h.ID)
		case "resource_type":
			return str(v, &h.ResourceType)
		case "class":
			return str(v, &h.Class)
		case "object_type":
			return str(v, &h.ObjectType)
		case "date":
			return timeStr(v, &h.Date)
		case "dateTime":
			return timeStr(v, &h.DateTime)
		case "date_time":
			return timeStr(v, &h.DateTime2)
		case "consumer_id":
			return str(v, &h.ConsumerID)
		case "consumerId":
			return str(v, &h.ConsumerID2)
		case "provider_id":
			return str(v, &h.ProviderID)
		case "providerId":
			return str(v, &h.ProviderID2)
		case "subscription_id":
			return str(v, &h.SubscriptionID)
		case "subscriptionId":
			return str(v, &h.SubscriptionI2)
		case "description":
			return str(v, &h.Descr)
		case "event", "events":
			if h.sawEvents {
				return false // both spellings, or a repeat: let the general path decide
			}
			h.sawEvents, h.events = true, v
			return true
		}
		return false
	})
	if !ok {
		return false
	}
	var events []*Event
	switch {
	case len(h.events) == 0 || h.events[0] == 'n': // absent or null
	case h.events[0] == '{':
		e, ok := fastEventObject(h.events)
		if !ok {
			return false
		}
		events = []*Event{e}
	case h.events[0] == '[':
		ok := eachArrayElement(h.events, func(v []byte) bool {
			e, ok := fastEventObject(v)
			events = append(events, e)
			return ok
		})
		if !ok {
			return false
		}
		if events == nil {
			events = []*Event{}
		}
	default:
		return false
	}
	date, ok := wireTime(h.Date, h.DateTime, h.DateTime2)
	if !ok {
		return false
	}
	*n = Notification{
		ID:             first(h.ID),
		ResourceType:   first(h.ResourceType, h.Class, h.ObjectType),
		Date:           date,
		ConsumerID:     first(h.ConsumerID, h.ConsumerID2),
		ProviderID:     first(h.ProviderID, h.ProviderID2),
		SubscriptionID: first(h.SubscriptionID, h.SubscriptionI2),
		Description:    first(h.Descr),
		Events:         events,
	}
	return true
}

// fastEventObject decodes one event object already known to be valid JSON.
func fastEventObject(b []byte) (*Event, bool) {
	if len(b) == 0 || b[0] != '{' {
		return nil, false
	}
	var w eventWire
	ok := scanObject(b, func(k, v []byte) bool {
		switch string(k) {
		case "id":
			return str(v, &w.ID)
		case "resource_type":
			return str(v, &w.ResourceType)
		case "class":
			return str(v, &w.Class)
		case "object_type":
			return str(v, &w.ObjectType)
		case "event_type":
			return str(v, &w.EventType)
		case "eventType":
			return str(v, &w.EventType2)
		case "date":
			return timeStr(v, &w.Date)
		case "dateTime":
			return timeStr(v, &w.DateTime)
		case "date_time":
			return timeStr(v, &w.DateTime2)
		case "description":
			return str(v, &w.Description)
		case "event_data":
			w.EventData = v
			return true
		case "eventData":
			w.EventData2 = v
			return true
		}
		return false
	})
	if !ok {
		return nil, false
	}
	return w.event()
}

func (w *eventWire) event() (*Event, bool) {
	date, ok := wireTime(w.Date, w.DateTime, w.DateTime2)
	if !ok {
		return nil, false
	}
	var data json.RawMessage
	if d := pickRaw(w.EventData, w.EventData2); d != nil {
		data = append(json.RawMessage(nil), d...) // b is the caller's buffer
	}
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
	if !json.Valid(b) {
		return false
	}
	ev, ok := fastEventObject(bytes.TrimSpace(b))
	if !ok {
		return false
	}
	*e = *ev
	return true
}

// str assigns a JSON string value (null leaves dst alone, as encoding/json
// does); any other type refuses the fast path.
func str(v []byte, dst *string) bool {
	if len(v) == 4 && string(v) == "null" {
		return true
	}
	if len(v) < 2 || v[0] != '"' {
		return false
	}
	inner := v[1 : len(v)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		*dst = string(inner)
		return true
	}
	return json.Unmarshal(v, dst) == nil // escapes or invalid UTF-8: the slow, exact way
}

// timeStr takes a timestamp written as a JSON string or number; numbers are
// kept as their text, which wireTime parses like UnixTime does.
func timeStr(v []byte, dst *string) bool {
	if len(v) > 0 && (v[0] == '-' || (v[0] >= '0' && v[0] <= '9')) {
		*dst = string(v)
		return true
	}
	return str(v, dst)
}

// eachArrayElement calls f for every element of the JSON array b.
func eachArrayElement(b []byte, f func(v []byte) bool) bool {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '[' {
		return false
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return true
	}
	for {
		end := skipValue(b, i)
		if end < 0 || !f(b[i:end]) {
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
