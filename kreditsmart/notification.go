package kreditsmart

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Channel says how a notification arrived.
type Channel string

// The two KEX-PUSH channels.
const (
	ChannelMQTT    Channel = "mqtt"
	ChannelWebhook Channel = "webhook"
)

// EventType is the notifykit event type of every Notification.
const EventType = "kreditsmart.vorgang.changed"

// Notification says "this Vorgang changed: re-read it". It carries
// identifiers only; the details come from the KEX Vorgang export API.
//
// Notification implements notifykit.Event: Subject is the Vorgangsnummer,
// ID a digest of the raw payload (identical redeliveries share it), Time the
// LetztesAenderungsDatum (the send time; zero for webhooks).
type Notification struct {
	// Vorgangsnummer identifies the Vorgang that changed, also when the
	// change was on one of its Anträge. Never empty.
	Vorgangsnummer string
	// Teilantragsnummer is set by the webhook channel when the change
	// concerns a Teilantrag ("VN1245/1/1"); empty when it concerns the
	// Vorgang itself (JSON null) and always empty on MQTT.
	Teilantragsnummer string
	// KundenbetreuerPartnerbaum is the full partner tree of the customer
	// advisor (MQTT only), complete even when the topic was cut at 7 levels.
	// Both spellings kundenbetreuerPartnerbaum and kundenbetreuerPartnerBaum
	// are read. Kept as sent; see Partnerbaum.Validate.
	KundenbetreuerPartnerbaum Partnerbaum
	// LetztesAenderungsDatum is, despite its name, the time the message was
	// sent. Zero when absent or unparseable; the text is in
	// LetztesAenderungsDatumRaw either way.
	LetztesAenderungsDatum    time.Time
	LetztesAenderungsDatumRaw string
	// Quellsystem is the event source, "KREDITSMART" today; other values are
	// delivered unchanged.
	Quellsystem string

	Topic      string          // MQTT topic the message came on; empty for webhooks
	Channel    Channel         // ChannelMQTT or ChannelWebhook
	ReceivedAt time.Time       // when this process received it
	Raw        json.RawMessage // the payload exactly as received
}

// ID is a digest of the raw payload: an AWS redelivery or a webhook retry of
// the same message has the same ID, two sends of the same Vorgang (which
// differ at least in their send time) do not.
func (n *Notification) ID() string {
	sum := sha256.Sum256(n.Raw)
	return hex.EncodeToString(sum[:16])
}

// Source returns "kreditsmart".
func (n *Notification) Source() string { return "kreditsmart" }

// Type returns EventType.
func (n *Notification) Type() string { return EventType }

// Subject returns the Vorgangsnummer.
func (n *Notification) Subject() string { return n.Vorgangsnummer }

// Time returns LetztesAenderungsDatum (zero when the payload had none).
func (n *Notification) Time() time.Time { return n.LetztesAenderungsDatum }

// EventData returns the raw JSON payload for notifykit.CloudEvent.
func (n *Notification) EventData() (contentType string, data []byte) {
	return "application/json", n.Raw
}
