package banqup

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Delivery is what the AMQP transport carried besides the payload: the
// envelope, the properties and headers, and the raw body.
type Delivery struct {
	// Envelope is the decoded MassTransit envelope (for raw JSON messages,
	// rebuilt from the transport headers).
	Envelope Envelope
	// Stream is the stream the message was dispatched to.
	Stream      Stream
	ContentType string
	// Exchange is the exchange the message was published to, usually the
	// stream's type exchange.
	Exchange    string
	RoutingKey  string
	Redelivered bool
	// Headers are the AMQP headers; values may be any AMQP type (see
	// HeaderString).
	Headers amqp.Table
	// Body is the delivery's raw body.
	Body []byte
}

// HeaderString returns the AMQP header name as a string, whatever AMQP type
// it has (MassTransit writes Guids as strings, DateTimes as timestamps,
// integers as integers). The name is matched exactly first, then
// case-insensitively. ok is false when the header is absent.
func (d *Delivery) HeaderString(name string) (value string, ok bool) {
	return headerString(d.Headers, name)
}

func headerString(h amqp.Table, name string) (string, bool) {
	v, ok := h[name]
	if !ok {
		for k, kv := range h {
			if strings.EqualFold(k, name) {
				v, ok = kv, true
				break
			}
		}
		if !ok {
			return "", false
		}
	}
	return stringify(v), true
}

func stringify(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	case bool:
		return strconv.FormatBool(x)
	case int8:
		return strconv.FormatInt(int64(x), 10)
	case int16:
		return strconv.FormatInt(int64(x), 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case uint8:
		return strconv.FormatUint(uint64(x), 10)
	case uint16:
		return strconv.FormatUint(uint64(x), 10)
	case uint32:
		return strconv.FormatUint(uint64(x), 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case amqp.Decimal:
		return decimalString(x)
	case amqp.Table, []any:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	default:
		return fmt.Sprint(x)
	}
}

func decimalString(d amqp.Decimal) string {
	neg := d.Value < 0
	v := int64(d.Value)
	if neg {
		v = -v
	}
	s := strconv.FormatInt(v, 10)
	if sc := int(d.Scale); sc > 0 {
		if len(s) <= sc {
			s = strings.Repeat("0", sc-len(s)+1) + s
		}
		s = s[:len(s)-sc] + "." + s[len(s)-sc:]
	}
	if neg {
		s = "-" + s
	}
	return s
}
