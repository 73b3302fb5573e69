package banquptest_test

import (
	"encoding/json"
	"strings"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/notifykit/notifykit/banqup"
	"github.com/notifykit/notifykit/banqup/banquptest"
)

func TestNewPublishingWireFormat(t *testing.T) {
	p, id, err := banquptest.NewPublishing(banqup.StreamTransaction, banquptest.Fixture(banqup.StreamTransaction))
	if err != nil {
		t.Fatal(err)
	}
	if p.ContentType != "application/vnd.masstransit+json" || p.DeliveryMode != amqp.Persistent || p.MessageId != id || len(id) != 36 {
		t.Errorf("properties %+v", p)
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal(p.Body, &env); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"messageId", "conversationId", "sourceAddress", "destinationAddress", "messageType", "message", "sentTime", "headers", "host"} {
		if _, ok := env[k]; !ok {
			t.Errorf("envelope lacks %q", k)
		}
	}
	if string(env["correlationId"]) != "null" {
		t.Errorf("System.Text.Json writes nulls, got correlationId %s", env["correlationId"])
	}
	if !strings.Contains(string(env["message"]), `"amount":"1.15"`) {
		t.Errorf("decimal not a string: %s", env["message"])
	}
	if !strings.Contains(string(env["messageType"]), banqup.StreamTransaction.URN()) {
		t.Errorf("messageType %s", env["messageType"])
	}
}

func TestNewtonsoftOmitsNullsAndDefaults(t *testing.T) {
	p, _, err := banquptest.NewPublishing(banqup.StreamAspspCall, banquptest.Fixture(banqup.StreamAspspCall),
		banquptest.WithSerializer(banquptest.Newtonsoft))
	if err != nil {
		t.Fatal(err)
	}
	body := string(p.Body)
	for _, absent := range []string{"correlationId", "null", "errorResponseContent", "requestId"} {
		if strings.Contains(body, absent) {
			t.Errorf("Newtonsoft body contains %q: %s", absent, body)
		}
	}
	// A typed payload with zero values: false, 0 and "" vanish too.
	p, _, err = banquptest.NewPublishing(banqup.StreamAccount, banqup.AccountMessage{
		Data: banqup.AccountData{ID: 7, IsBusiness: new(bool), IBAN: "PL1"}}, banquptest.WithSerializer(banquptest.Newtonsoft))
	if err != nil {
		t.Fatal(err)
	}
	if body := string(p.Body); strings.Contains(body, "isBusiness") || strings.Contains(body, `"name"`) || !strings.Contains(body, `"iban":"PL1"`) {
		t.Errorf("defaults not omitted: %s", body)
	}
}

func TestTypedPayloadRoundTrip(t *testing.T) {
	in := banqup.TransactionMessage{Data: banqup.TransactionData{ID: "t1", Amount: banqup.MustDecimal("-12.50"),
		Status: banqup.TransactionPending}}
	p, _, err := banquptest.NewPublishing(banqup.StreamTransaction, in)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := banqup.Decode(amqp.Delivery{ContentType: p.ContentType, Body: p.Body, MessageId: p.MessageId})
	if err != nil {
		t.Fatal(err)
	}
	out := ev.(*banqup.TransactionEvent).Message
	if out.Data.Amount.String() != "-12.50" || out.Data.Status != banqup.TransactionPending || out.Data.ID != "t1" {
		t.Errorf("round trip: %+v", out.Data)
	}
}

func TestFixturesAreValid(t *testing.T) {
	for _, s := range banqup.Streams() {
		if !json.Valid(banquptest.Fixture(s)) {
			t.Errorf("%s fixture is not valid JSON", s)
		}
	}
	if _, _, err := banquptest.NewPublishing("nope", []byte("{}")); err == nil {
		t.Error("unknown stream accepted")
	}
}
