package banquptest

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/notifykit/notifykit/banqup"
)

// Serializer picks the JSON flavour of the MassTransit envelope.
type Serializer int

const (
	// SystemTextJSON is MassTransit v8's default: nulls written, decimals
	// as strings.
	SystemTextJSON Serializer = iota
	// Newtonsoft is the serializer before v8 (and UseNewtonsoftJsonSerializer
	// in v8): nulls and default values omitted, also inside the payload.
	Newtonsoft
)

// Option configures a Publisher or NewPublishing.
type Option func(*options)

type options struct {
	serializer Serializer
	host       banqup.HostInfo
	hostName   string
	vhost      string
}

func defaults() options {
	return options{
		host: banqup.HostInfo{
			MachineName:            "psd2hub-push-7d9f",
			ProcessName:            "Psd2Hub.Services.PushService",
			ProcessID:              1,
			Assembly:               "Psd2Hub.Services.PushService",
			AssemblyVersion:        "1.0.0.0",
			FrameworkVersion:       "6.0.36",
			MassTransitVersion:     "8.1.3.0",
			OperatingSystemVersion: "Unix 5.15.0.1064",
		},
		hostName: "localhost",
		vhost:    "/",
	}
}

// WithSerializer selects the envelope flavour (default SystemTextJSON).
func WithSerializer(s Serializer) Option { return func(o *options) { o.serializer = s } }

// WithHostInfo replaces the envelope's host block.
func WithHostInfo(h banqup.HostInfo) Option { return func(o *options) { o.host = h } }

// NewMessageID returns a fresh id in MassTransit's Guid "D" format.
func NewMessageID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// envelopeSTJ is the System.Text.Json envelope, member order as MassTransit
// writes it, nulls included.
type envelopeSTJ struct {
	MessageID          string           `json:"messageId"`
	RequestID          *string          `json:"requestId"`
	CorrelationID      *string          `json:"correlationId"`
	ConversationID     string           `json:"conversationId"`
	InitiatorID        *string          `json:"initiatorId"`
	SourceAddress      string           `json:"sourceAddress"`
	DestinationAddress string           `json:"destinationAddress"`
	ResponseAddress    *string          `json:"responseAddress"`
	FaultAddress       *string          `json:"faultAddress"`
	MessageType        []string         `json:"messageType"`
	Message            json.RawMessage  `json:"message"`
	ExpirationTime     *string          `json:"expirationTime"`
	SentTime           string           `json:"sentTime"`
	Headers            map[string]any   `json:"headers"`
	Host               *banqup.HostInfo `json:"host"`
}

// envelopeNewtonsoft omits what Newtonsoft's NullValueHandling.Ignore and
// DefaultValueHandling.Ignore omit.
type envelopeNewtonsoft struct {
	MessageID          string          `json:"messageId,omitempty"`
	ConversationID     string          `json:"conversationId,omitempty"`
	SourceAddress      string          `json:"sourceAddress,omitempty"`
	DestinationAddress string          `json:"destinationAddress,omitempty"`
	MessageType        []string        `json:"messageType"`
	Message            json.RawMessage `json:"message"`
	SentTime           string          `json:"sentTime,omitempty"`
	Headers            map[string]any  `json:"headers"`
	Host               any             `json:"host,omitempty"`
}

// NewPublishing builds exactly what banqUP's MassTransit publisher puts on
// the wire for one message of stream s: persistent, content type
// application/vnd.masstransit+json, message_id set, envelope with host
// block. payload is used as is when it is []byte or json.RawMessage, and
// JSON-encoded otherwise (the banqup model types encode decimals as
// strings, as banqUP does). It returns the publishing and its message id.
func NewPublishing(s banqup.Stream, payload any, opts ...Option) (amqp.Publishing, string, error) {
	o := defaults()
	for _, opt := range opts {
		opt(&o)
	}
	if !s.Valid() {
		return amqp.Publishing{}, "", fmt.Errorf("banquptest: unknown stream %q", s)
	}
	raw, err := payloadJSON(payload)
	if err != nil {
		return amqp.Publishing{}, "", err
	}
	id := NewMessageID()
	now := time.Now().UTC()
	sent := now.Format("2006-01-02T15:04:05.0000000Z")
	src := fmt.Sprintf("rabbitmq://%s/%s_%s_bus_%s?temporary=true", o.hostName, o.host.MachineName, "PushService", id[:8])
	dst := fmt.Sprintf("rabbitmq://%s/%s", o.hostName, s.Exchange())
	conv := NewMessageID()
	var body []byte
	if o.serializer == Newtonsoft {
		stripped, err := stripDefaults(raw)
		if err != nil {
			return amqp.Publishing{}, "", err
		}
		body, err = json.Marshal(envelopeNewtonsoft{
			MessageID: id, ConversationID: conv, SourceAddress: src, DestinationAddress: dst,
			MessageType: []string{s.URN()}, Message: stripped, SentTime: sent,
			Headers: map[string]any{}, Host: hostNewtonsoft(o.host),
		})
		if err != nil {
			return amqp.Publishing{}, "", err
		}
	} else {
		host := o.host
		body, err = json.Marshal(envelopeSTJ{
			MessageID: id, ConversationID: conv, SourceAddress: src, DestinationAddress: dst,
			MessageType: []string{s.URN()}, Message: raw, SentTime: sent,
			Headers: map[string]any{}, Host: &host,
		})
		if err != nil {
			return amqp.Publishing{}, "", err
		}
	}
	return amqp.Publishing{
		ContentType:  banqup.ContentTypeEnvelope,
		DeliveryMode: amqp.Persistent,
		MessageId:    id,
		Headers: amqp.Table{
			"MT-Activity-Id": "00-" + hex32(id) + "-" + hex32(conv)[:16] + "-01",
		},
		Body: body,
	}, id, nil
}

func hex32(guid string) string {
	out := make([]byte, 0, 32)
	for i := 0; i < len(guid); i++ {
		if guid[i] != '-' {
			out = append(out, guid[i])
		}
	}
	return string(out)
}

func payloadJSON(payload any) (json.RawMessage, error) {
	switch p := payload.(type) {
	case []byte:
		return json.RawMessage(p), nil
	case json.RawMessage:
		return p, nil
	case string:
		return json.RawMessage(p), nil
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("banquptest: encode payload: %w", err)
	}
	return b, nil
}

func hostNewtonsoft(h banqup.HostInfo) any {
	b, _ := json.Marshal(h) // HostInfo always encodes
	s, _ := stripDefaults(b)
	return json.RawMessage(s)
}

// stripDefaults removes null, false, 0 and "" members recursively, as
// Newtonsoft's NullValueHandling.Ignore plus DefaultValueHandling.Ignore do
// (the banqup models encode a null string as "").
func stripDefaults(raw []byte) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("banquptest: payload is not JSON: %w", err)
	}
	b, err := json.Marshal(strip(v))
	return b, err
}

func strip(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if isDefault(val) {
				delete(x, k)
				continue
			}
			x[k] = strip(val)
		}
		return x
	case []any:
		for i := range x {
			x[i] = strip(x[i])
		}
		return x
	}
	return v
}

func isDefault(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case bool:
		return !x
	case string:
		return x == ""
	case json.Number:
		f, err := x.Float64()
		return err == nil && f == 0
	}
	return false
}
