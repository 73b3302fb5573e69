package banqup_test

import (
	"errors"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/notifykit/notifykit/banqup"
	"github.com/notifykit/notifykit/banqup/banquptest"
)

// FuzzDecode checks that Decode never panics and that every failure is a
// typed *DecodeError matching one of the documented sentinels.
func FuzzDecode(f *testing.F) {
	for _, s := range banqup.Streams() {
		for _, ser := range []banquptest.Serializer{banquptest.SystemTextJSON, banquptest.Newtonsoft} {
			p, _, err := banquptest.NewPublishing(s, banquptest.Fixture(s), banquptest.WithSerializer(ser))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(p.ContentType, p.Body, s.Exchange())
		}
		f.Add("application/json", banquptest.Fixture(s), s.Exchange())
		f.Add("", banquptest.Fixture(s), s.Exchange())
	}
	f.Add(banqup.ContentTypeEnvelope, []byte(`{"messageType":["`+txURN+`"],"message":{"data":{"amount":"1e5","accountingDate":"2021-01-05"}}}`), "")
	f.Add(banqup.ContentTypeEnvelope, []byte(`{"messageType":"`+txURN+`","message":null}`), "")
	f.Add("application/json", []byte(`{"requestDuration":"1.00:00:00.1"}`), banqup.StreamAspspCall.Exchange())
	f.Add("", []byte("\xff\xfe"), "")
	f.Fuzz(func(t *testing.T, contentType string, body []byte, exchange string) {
		ev, err := banqup.Decode(amqp.Delivery{ContentType: contentType, Body: body, Exchange: exchange})
		if err != nil {
			var de *banqup.DecodeError
			if !errors.As(err, &de) || !(errors.Is(err, banqup.ErrMalformed) ||
				errors.Is(err, banqup.ErrUnknownMessageType) || errors.Is(err, banqup.ErrUnsupportedContentType)) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		// A decoded event answers every Event method.
		_, _, _, _, _ = ev.ID(), ev.Type(), ev.Subject(), ev.Time(), ev.Stream()
		if ev.ID() == "" || !ev.Stream().Valid() {
			t.Fatalf("event without id or stream: %q %q", ev.ID(), ev.Stream())
		}
	})
}

// FuzzTimeSpan checks ParseTimeSpan never panics and round-trips what it
// accepts.
func FuzzTimeSpan(f *testing.F) {
	for _, s := range []string{"00:00:00.0143177", "1.02:03:04.5", "-00:00:01", "23:59:59.9999999", "10675199.02:48:05.4775807"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := banqup.ParseTimeSpan(s)
		if err != nil {
			return
		}
		back, err := banqup.ParseTimeSpan(banqup.FormatTimeSpan(d))
		if err != nil || back != d {
			t.Fatalf("%q -> %v -> %q -> %v, %v", s, d, banqup.FormatTimeSpan(d), back, err)
		}
	})
}
