package kreditsmart

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/notifykit/notifykit/internal/lenient"
)

// wirePayload is the union of the MQTT and the webhook body. encoding/json
// matches keys case-insensitively, which is what accepts the early
// "kundenbetreuerPartnerBaum" spelling.
type wirePayload struct {
	Vorgangsnummer            *json.RawMessage `json:"vorgangsnummer"`
	Teilantragsnummer         *json.RawMessage `json:"teilantragsnummer"`
	KundenbetreuerPartnerbaum *json.RawMessage `json:"kundenbetreuerPartnerbaum"`
	LetztesAenderungsDatum    *json.RawMessage `json:"letztesAenderungsDatum"`
	Quellsystem               *json.RawMessage `json:"quellsystem"`
}

// Decode turns a KEX-PUSH payload (MQTT message or webhook body) into a
// Notification with Raw set; the caller fills Channel, Topic and ReceivedAt.
//
// It is lenient where the vendor is vague: unknown fields are ignored, the
// date may be date-only, RFC 3339 or an offset-less timestamp (UTC), or
// absent, and identifiers may be JSON numbers. It fails only when the payload
// is larger than MaxPayloadBytes (ErrPayloadTooLarge), is not a JSON object
// or has a field of an impossible type (ErrMalformedPayload), or lacks the
// vorgangsnummer (ErrMissingVorgangsnummer).
func Decode(payload []byte) (*Notification, error) {
	if len(payload) > MaxPayloadBytes {
		return nil, fmt.Errorf("%w: %d bytes exceed %d", ErrPayloadTooLarge, len(payload), MaxPayloadBytes)
	}
	trimmed := bytes.TrimSpace(payload)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("%w: not a JSON object", ErrMalformedPayload)
	}
	var w wirePayload
	if err := json.Unmarshal(trimmed, &w); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedPayload, err)
	}
	n := &Notification{Raw: json.RawMessage(bytes.Clone(payload))}
	var err error
	if n.Vorgangsnummer, err = text("vorgangsnummer", w.Vorgangsnummer); err != nil {
		return nil, err
	}
	n.Vorgangsnummer = strings.TrimSpace(n.Vorgangsnummer)
	if n.Vorgangsnummer == "" {
		return nil, ErrMissingVorgangsnummer
	}
	if n.Teilantragsnummer, err = text("teilantragsnummer", w.Teilantragsnummer); err != nil {
		return nil, err
	}
	tree, err := text("kundenbetreuerPartnerbaum", w.KundenbetreuerPartnerbaum)
	if err != nil {
		return nil, err
	}
	n.KundenbetreuerPartnerbaum = Partnerbaum(tree)
	if n.Quellsystem, err = text("quellsystem", w.Quellsystem); err != nil {
		return nil, err
	}
	n.LetztesAenderungsDatumRaw, n.LetztesAenderungsDatum = date(w.LetztesAenderungsDatum)
	return n, nil
}

// text reads a string field leniently: absent or null is "", numbers are
// taken as written, objects, arrays and booleans are malformed.
func text(name string, raw *json.RawMessage) (string, error) {
	if raw == nil {
		return "", nil
	}
	b := bytes.TrimSpace(*raw)
	switch {
	case len(b) == 0 || bytes.Equal(b, []byte("null")):
		return "", nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", fmt.Errorf("%w: %s: %v", ErrMalformedPayload, name, err)
		}
		return s, nil
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		return string(b), nil
	default:
		return "", fmt.Errorf("%w: %s is not a string", ErrMalformedPayload, name)
	}
}

// date never fails: a notification whose send time cannot be read is still
// a notification. It returns the raw text and the parsed time (zero when
// unparseable).
func date(raw *json.RawMessage) (string, time.Time) {
	if raw == nil {
		return "", time.Time{}
	}
	b := bytes.TrimSpace(*raw)
	var lt lenient.Time
	if err := json.Unmarshal(b, &lt); err != nil {
		lt = lenient.Time{}
	}
	var s string
	if len(b) > 0 && b[0] == '"' {
		if json.Unmarshal(b, &s) != nil {
			s = ""
		}
	} else if !bytes.Equal(b, []byte("null")) {
		s = string(b)
	}
	return s, lt.Time
}
