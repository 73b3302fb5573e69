package banqup_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/notifykit/notifykit"
	"github.com/notifykit/notifykit/banqup"
	"github.com/notifykit/notifykit/banqup/banquptest"
)

// delivery builds what the consumer would receive for a banquptest
// publishing.
func delivery(t testing.TB, s banqup.Stream, payload any, opts ...banquptest.Option) amqp.Delivery {
	t.Helper()
	p, _, err := banquptest.NewPublishing(s, payload, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return amqp.Delivery{
		ContentType: p.ContentType, MessageId: p.MessageId, Headers: p.Headers,
		Body: p.Body, Exchange: s.Exchange(),
	}
}

func mustTime(t testing.TB, s string) banqup.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return banqup.Time{Time: v}
}

func ptr[T any](v T) *T { return &v }

var cmpOpts = cmp.Options{
	cmp.Comparer(func(a, b banqup.Decimal) bool { return a.String() == b.String() }),
	cmp.Comparer(func(a, b banqup.Time) bool { return a.Equal(b.Time) }),
	cmpopts.EquateEmpty(),
}

func TestDecodeFixtures(t *testing.T) {
	for _, ser := range []banquptest.Serializer{banquptest.SystemTextJSON, banquptest.Newtonsoft} {
		for _, s := range banqup.Streams() {
			t.Run(s.Exchange(), func(t *testing.T) {
				d := delivery(t, s, banquptest.Fixture(s), banquptest.WithSerializer(ser))
				ev, err := banqup.Decode(d)
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if ev.Stream() != s || ev.ID() != d.MessageId || ev.Source() != "banqup" {
					t.Fatalf("stream %s id %s source %s", ev.Stream(), ev.ID(), ev.Source())
				}
				if ev.Raw().Envelope.Host == nil || ev.Raw().Envelope.Host.MachineName == "" {
					t.Errorf("host block lost: %+v", ev.Raw().Envelope.Host)
				}
				if ev.Time().IsZero() {
					t.Error("zero Time()")
				}
				ct, data := ev.EventData()
				if ct != "application/json" || len(data) == 0 {
					t.Errorf("EventData = %q, %d bytes", ct, len(data))
				}
			})
		}
	}
}

func TestDecodeTransactionFields(t *testing.T) {
	ev, err := banqup.Decode(delivery(t, banqup.StreamTransaction, banquptest.Fixture(banqup.StreamTransaction)))
	if err != nil {
		t.Fatal(err)
	}
	tx, ok := ev.(*banqup.TransactionEvent)
	if !ok {
		t.Fatalf("got %T", ev)
	}
	want := banqup.TransactionMessage{
		Data: banqup.TransactionData{
			AccountingDate:          mustTime(t, "2021-01-05T13:52:12.180Z"),
			AfterTransactionBalance: ptr(banqup.MustDecimal("1.15")),
			Amount:                  banqup.MustDecimal("1.15"),
			Currency:                "PLN",
			EffectiveDate:           mustTime(t, "2021-01-05T12:05:19.876Z"),
			EndToEndID:              "E2E-0001",
			ID:                      "tx-0001",
			Recipient: &banqup.Party{
				AccountIdentifier: &banqup.AccountIdentifier{Type: "iban", Value: "PL27114020040000300201355387"},
				Address:           "ul. Prosta 1, 00-001 Warszawa", Name: "Jan Kowalski",
			},
			Sender: &banqup.Party{
				AccountIdentifier: &banqup.AccountIdentifier{Type: "iban", Value: "PL61109010140000071219812874"},
				Address:           "ul. Krzywa 2, 00-002 Warszawa", Name: "Anna Nowak",
			},
			Status: banqup.TransactionBooked,
			Title:  "Zwrot za obiad",
		},
		Embedded: banqup.TransactionEmbedded{
			Account: banqup.AccountRef{ID: 1, IBAN: "PL27114020040000300201355387"},
			User:    banqup.User{ID: "8b0e3c1e-5a57-4b8e-9d1c-2f9f1d2a7c11", BusinessContext: banqup.BusinessContextIndividual},
		},
		Meta: banqup.Meta{BuildID: "20201130.4", ContainerID: "e1f64b0a5f32", Operation: banqup.OperationCreated,
			Initiator: banqup.InitiatorBackgroundTask, Timestamp: mustTime(t, "2021-01-05T12:05:19.876Z")},
	}
	if diff := cmp.Diff(want, tx.Message, cmpOpts); diff != "" {
		t.Errorf("message (-want +got):\n%s", diff)
	}
	if err := tx.Message.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if tx.Type() != "banqup.transaction.created" || tx.Subject() != "tx-0001" {
		t.Errorf("Type %q Subject %q", tx.Type(), tx.Subject())
	}
}

func TestDecodeOtherStreamsFields(t *testing.T) {
	dec := func(s banqup.Stream) banqup.Event {
		ev, err := banqup.Decode(delivery(t, s, banquptest.Fixture(s)))
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	acc := dec(banqup.StreamAccount).(*banqup.AccountEvent)
	a := acc.Message
	if a.Data.ID != 1 || a.Data.IBAN == "" || a.Data.IsBusiness == nil || *a.Data.IsBusiness ||
		a.Data.HolderType != banqup.HolderTypeIndividual || len(a.Data.HolderInformation.Relations) != 10 ||
		a.Data.HolderInformation.Relations[3] != banqup.PSURelationProxyOwnerGeneral ||
		a.Data.Balances[banqup.BalanceClosingBooked].Value.String() != "1.0" ||
		a.Meta.TraceID != "debf5d7c-91e1-4ae3-aadc-ce938c6b1df4" ||
		a.Meta.Timestamp.Nanosecond() != 187268600 || acc.Subject() != "1" || acc.Type() != "banqup.account.created" {
		t.Errorf("account: %+v", a)
	}
	if err := a.Validate(); err != nil {
		t.Error(err)
	}
	sf := dec(banqup.StreamSessionFinished).(*banqup.SessionFinishedEvent)
	if sf.Message.Data.ID != "tx-0001" || sf.Message.Embedded.Session.ExternalID != "run-2021-01-05" ||
		sf.Message.Embedded.User.BusinessContext != banqup.BusinessContextBusiness || sf.Type() != "banqup.session.finished" {
		t.Errorf("session: %+v", sf.Message)
	}
	if err := sf.Message.Validate(); err != nil {
		t.Error(err)
	}
	c := dec(banqup.StreamConsent).(*banqup.ConsentEvent)
	if c.Message.Data.Status != banqup.ConsentInvalid || c.Message.Data.PreviousStatus != banqup.ConsentConfirmed ||
		c.Message.Data.Scope != banqup.ConsentScopeAIS || c.Message.Data.InvalidationInfo.Reason != "Expired" ||
		len(c.Message.Embedded.Accounts) != 2 || c.Message.Embedded.Accounts[0].ID != 1234 ||
		c.Type() != "banqup.consent.updated" || c.Subject() != "consent-42" {
		t.Errorf("consent: %+v", c.Message)
	}
	if err := c.Message.Validate(); err != nil {
		t.Error(err)
	}
	call := dec(banqup.StreamAspspCall).(*banqup.AspspCallEvent)
	if call.Message.RequestDuration.Duration != 14317700*time.Nanosecond || call.Message.StatusCode != 200 ||
		call.Message.ErrorResponseContent != "" || call.Message.User.ID != "56b62fe5-9a2b-4927-aab1-e2a0f4da590d" ||
		call.Subject() != "c3b8e8af-f468-462d-98ab-416e404ae5fe" {
		t.Errorf("aspsp call: %+v", call.Message)
	}
	if err := call.Message.Validate(); err != nil {
		t.Error(err)
	}
}

const txURN = "urn:message:Psd2Hub.Services.PushService.Models.Finat.Streaming.Transactions:TransactionMessage"

func TestDecodeDispatch(t *testing.T) {
	payload := `{"data":{"id":"t1","amount":1.5,"status":"Booked"},"embedded":{"account":{"id":7}},"meta":{"operation":"Updated"}}`
	env := func(types string) []byte {
		return []byte(`{"messageId":"m1","messageType":` + types + `,"message":` + payload + `}`)
	}
	cases := []struct {
		name     string
		d        amqp.Delivery
		wantErr  error
		wantType string
	}{
		{name: "envelope", d: amqp.Delivery{ContentType: banqup.ContentTypeEnvelope, Body: env(`["` + txURN + `"]`)},
			wantType: "banqup.transaction.updated"},
		{name: "content type with params and case", d: amqp.Delivery{ContentType: "Application/VND.MassTransit+JSON; charset=utf-8", Body: env(`["` + txURN + `"]`)},
			wantType: "banqup.transaction.updated"},
		{name: "second urn matches", d: amqp.Delivery{ContentType: banqup.ContentTypeEnvelope,
			Body: env(`["urn:message:Psd2Hub.Contracts:IStreamingMessage","` + txURN + `"]`)}, wantType: "banqup.transaction.updated"},
		{name: "fault of a known type is not that type", d: amqp.Delivery{ContentType: banqup.ContentTypeEnvelope,
			Body: env(`["urn:message:MassTransit:Fault[[Psd2Hub.Services.PushService.Models.Finat.Streaming.Transactions:TransactionMessage]]"]`)},
			wantErr: banqup.ErrUnknownMessageType},
		{name: "nested type with plus is unknown", d: amqp.Delivery{ContentType: banqup.ContentTypeEnvelope,
			Body: env(`["` + txURN + `+Inner"]`)}, wantErr: banqup.ErrUnknownMessageType},
		{name: "no prefix", d: amqp.Delivery{ContentType: banqup.ContentTypeEnvelope,
			Body: env(`["Psd2Hub.Services.PushService.Models.Finat.Streaming.Transactions:TransactionMessage"]`)}, wantType: "banqup.transaction.updated"},
		{name: "exchange fallback", d: amqp.Delivery{ContentType: banqup.ContentTypeEnvelope, Body: env(`[]`),
			Exchange: banqup.StreamTransaction.Exchange()}, wantType: "banqup.transaction.updated"},
		{name: "unknown urn", d: amqp.Delivery{ContentType: banqup.ContentTypeEnvelope, Body: env(`["urn:message:Other:Thing"]`),
			Exchange: "Other:Thing"}, wantErr: banqup.ErrUnknownMessageType},
		{name: "messageType as string", d: amqp.Delivery{ContentType: banqup.ContentTypeEnvelope, Body: env(`"urn:message:A:B;` + txURN + `"`)},
			wantType: "banqup.transaction.updated"},
		{name: "raw json with MT headers", d: amqp.Delivery{ContentType: "application/json", Body: []byte(payload),
			Headers: amqp.Table{"MT-MessageType": "urn:message:A:B;" + txURN, "MessageId": "m1",
				"MT-Host-Info": `{"machineName":"box","processId":12}`}}, wantType: "banqup.transaction.updated"},
		{name: "no content type, envelope sniffed", d: amqp.Delivery{Body: env(`["` + txURN + `"]`)}, wantType: "banqup.transaction.updated"},
		{name: "no content type, raw sniffed", d: amqp.Delivery{Body: []byte(payload), MessageId: "m1",
			Exchange: banqup.StreamTransaction.Exchange()}, wantType: "banqup.transaction.updated"},
		{name: "empty body", d: amqp.Delivery{ContentType: banqup.ContentTypeEnvelope}, wantErr: banqup.ErrMalformed},
		{name: "blank body", d: amqp.Delivery{ContentType: banqup.ContentTypeEnvelope, Body: []byte(" \n")}, wantErr: banqup.ErrMalformed},
		{name: "truncated", d: amqp.Delivery{ContentType: banqup.ContentTypeEnvelope, Body: env(`["` + txURN + `"]`)[:40]}, wantErr: banqup.ErrMalformed},
		{name: "invalid utf-8", d: amqp.Delivery{ContentType: banqup.ContentTypeEnvelope,
			Body: []byte(strings.Replace(string(env(`["`+txURN+`"]`)), "t1", "t\xff1", 1))}, wantErr: banqup.ErrMalformed},
		{name: "wrong field type", d: amqp.Delivery{ContentType: banqup.ContentTypeEnvelope,
			Body: []byte(`{"messageId":"m1","messageType":["` + txURN + `"],"message":{"data":{"id":5}}}`)}, wantErr: banqup.ErrMalformed},
		{name: "amount not a number", d: amqp.Delivery{ContentType: banqup.ContentTypeEnvelope,
			Body: []byte(`{"messageId":"m1","messageType":["` + txURN + `"],"message":{"data":{"amount":"1,15"}}}`)}, wantErr: banqup.ErrMalformed},
		{name: "message not an object", d: amqp.Delivery{ContentType: banqup.ContentTypeEnvelope,
			Body: []byte(`{"messageId":"m1","messageType":["` + txURN + `"],"message":"hi"}`)}, wantErr: banqup.ErrMalformed},
		{name: "envelope without message", d: amqp.Delivery{ContentType: banqup.ContentTypeEnvelope,
			Body: []byte(`{"messageId":"m1","messageType":["` + txURN + `"]}`)}, wantErr: banqup.ErrMalformed},
		{name: "messageType wrong type", d: amqp.Delivery{ContentType: banqup.ContentTypeEnvelope,
			Body: []byte(`{"messageType":{"a":1},"message":{}}`)}, wantErr: banqup.ErrMalformed},
		{name: "bson", d: amqp.Delivery{ContentType: "application/vnd.masstransit+bson", Body: []byte{1, 2}}, wantErr: banqup.ErrUnsupportedContentType},
		{name: "xml", d: amqp.Delivery{ContentType: "application/xml", Body: []byte("<a/>")}, wantErr: banqup.ErrUnsupportedContentType},
		{name: "text/plain", d: amqp.Delivery{ContentType: "text/plain", Body: []byte("hello")}, wantErr: banqup.ErrUnsupportedContentType},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := banqup.Decode(tc.d)
			if tc.wantErr != nil {
				var de *banqup.DecodeError
				if !errors.Is(err, tc.wantErr) || !errors.As(err, &de) {
					t.Fatalf("err = %v, want %v as *DecodeError", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if ev.Type() != tc.wantType || ev.ID() != "m1" {
				t.Fatalf("Type %q ID %q", ev.Type(), ev.ID())
			}
			tx := ev.(*banqup.TransactionEvent)
			if tx.Message.Data.Amount.String() != "1.5" || tx.Message.Data.Status != banqup.TransactionBooked {
				t.Errorf("payload: %+v", tx.Message.Data)
			}
		})
	}
}

func TestDecodeRawHeadersFillEnvelope(t *testing.T) {
	ev, err := banqup.Decode(amqp.Delivery{ContentType: "application/json", CorrelationId: "c1",
		Body: []byte(`{"data":{"id":"t"}}`), Headers: amqp.Table{
			"MT-MessageType": txURN, "MessageId": "m9", "ConversationId": "conv", "MT-Source-Address": "rabbitmq://h/src",
			"MT-Host-Info": `{"machineName":"box","processId":12}`}})
	if err != nil {
		t.Fatal(err)
	}
	env := ev.Raw().Envelope
	want := banqup.Envelope{MessageID: "m9", CorrelationID: "c1", ConversationID: "conv",
		SourceAddress: "rabbitmq://h/src", MessageType: banqup.URNList{txURN},
		Host: &banqup.HostInfo{MachineName: "box", ProcessID: 12}, Message: []byte(`{"data":{"id":"t"}}`)}
	if diff := cmp.Diff(want, env, cmpOpts); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestDecodeNullAndMissing(t *testing.T) {
	full := `{"data":{"id":"t","amount":null,"afterTransactionBalance":null,"accountingDate":null,"recipient":null,
		"sender":{"accountIdentifier":null,"name":null},"status":null,"title":null,"unknownField":[1,{"x":2}]},
		"embedded":null,"meta":{"operation":null,"timestamp":null}}`
	missing := `{"data":{"id":"t","sender":{}}}`
	var got [2]banqup.TransactionMessage
	for i, p := range []string{full, missing} {
		ev, err := banqup.Decode(amqp.Delivery{ContentType: "application/json", Body: []byte(p),
			Exchange: banqup.StreamTransaction.Exchange()})
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		got[i] = ev.(*banqup.TransactionEvent).Message
	}
	if diff := cmp.Diff(got[1], got[0], cmpOpts); diff != "" {
		t.Errorf("null and missing differ (-missing +null):\n%s", diff)
	}
	if got[0].Data.AfterTransactionBalance != nil || got[0].Data.Recipient != nil || !got[0].Data.AccountingDate.IsZero() {
		t.Errorf("nullable fields not zero: %+v", got[0].Data)
	}
	var ve *banqup.ValidationError
	if err := got[0].Validate(); !errors.Is(err, banqup.ErrInvalid) || !errors.As(err, &ve) || len(ve.Fields) == 0 {
		t.Errorf("Validate = %v", err)
	}
}

func TestDecodeEventTypeFallbacks(t *testing.T) {
	ev, err := banqup.Decode(amqp.Delivery{ContentType: "application/json",
		Body:     []byte(`{"data":{"id":"t"},"meta":{"operation":3}}`),
		Exchange: banqup.StreamTransaction.Exchange()})
	if err != nil {
		t.Fatal(err)
	}
	tx := ev.(*banqup.TransactionEvent)
	if tx.Message.Meta.Operation != "3" || tx.Type() != "banqup.transaction.changed" {
		t.Errorf("operation %q type %q", tx.Message.Meta.Operation, tx.Type())
	}
	if !strings.HasPrefix(tx.ID(), "sha256:") {
		t.Errorf("ID without messageId = %q, want body digest", tx.ID())
	}
	if tx.Time() != (time.Time{}) {
		t.Errorf("Time = %v", tx.Time())
	}
}

func TestEventsRenderAsCloudEvents(t *testing.T) {
	for _, s := range banqup.Streams() {
		ev, err := banqup.Decode(delivery(t, s, banquptest.Fixture(s)))
		if err != nil {
			t.Fatal(err)
		}
		b, err := notifykit.CloudEvent(ev)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		var ce struct {
			Source, Type, Subject, ID string
			Data                      json.RawMessage
		}
		if err := json.Unmarshal(b, &ce); err != nil {
			t.Fatal(err)
		}
		if ce.Source != "banqup" || ce.Type != ev.Type() || ce.Subject != ev.Subject() || ce.ID != ev.ID() ||
			!json.Valid(ce.Data) || len(ce.Data) < 10 {
			t.Errorf("%s: %s", s, b)
		}
	}
}
