package dsgo

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/notifykit/notifykit"
)

// The wiki notification example (spec §6), verbatim.
const wikiNotification = `{"id":"not_123","resource_type":"notification","date":"1663752217",
 "consumer_id":"EU.EORI.NL000123456","provider_id":"EU.EORI.NL000345678",
 "subscription_id":"sub_123","description":"...",
 "event":[{"id":"eve_123","resource_type":"event","event_type":"Modified",
   "date":"1663752228","description":"...",
   "event_data":"Data record xyz has been modified by zyx"}]}`

// The same notification in the OpenAPI v2.0 spelling, event as an object,
// ISO timestamps and an unknown member.
const oasNotification = `{"id":"not_123","class":"object","dateTime":"2022-09-21T09:23:37Z",
 "consumer_id":"EU.EORI.NL000123456","provider_id":"EU.EORI.NL000345678",
 "subscriptionId":"sub_123","description":"...","x-trace":{"a":1},
 "event":{"id":"eve_123","class":"event","event_type":"Modified",
   "dateTime":1663752228,"description":"...",
   "eventData":"Data record xyz has been modified by zyx"}}`

// The seed's subscription example (older wiki: url, ISO 8601, typo kept).
const seedSubscription = `{
  "id": "sub_123",
  "resource_type": "subscription",
  "url": "/subscriptions/sub_123",
  "created_date": "2022-09-21T10:23:37Z",
  "start_date": "2022-09-21T23:59:59Z",
  "end_date": "2023-09-21T23:59:59Z",
  "consumer_id": "EU.EORI.NL000123456",
  "provider_id": "EU.EORI.NL000345678",
  "description": "detailed description of the subscription",
  "event_type": ["Modified,","Deleted"],
  "status": "active",
  "webhook_url": "https://example.com/notifications"
}`

func TestNotificationBothSpellings(t *testing.T) {
	wiki, err := DecodeNotification([]byte(wikiNotification))
	if err != nil {
		t.Fatal(err)
	}
	oas, err := DecodeNotification([]byte(oasNotification))
	if err != nil {
		t.Fatal(err)
	}
	if wiki.Date.Unix() != 1663752217 || oas.Date.Unix() != 1663752217 {
		t.Fatalf("dates: %v %v", wiki.Date, oas.Date)
	}
	for _, n := range []*Notification{wiki, oas} {
		if n.SubscriptionID != "sub_123" || len(n.Events) != 1 {
			t.Fatalf("%+v", n)
		}
		e := n.Events[0]
		if e.EventID != "eve_123" || e.EventType != "Modified" || e.Date.Unix() != 1663752228 ||
			e.DataText() != "Data record xyz has been modified by zyx" {
			t.Fatalf("event %+v", e)
		}
		if e.ID() != "not_123/eve_123" || e.Subject() != "sub_123" || e.Type() != "dsgo.event.modified" ||
			e.Source() != "dsgo" || e.Time().Unix() != 1663752228 {
			t.Fatalf("notifykit.Event view: %s %s %s", e.ID(), e.Subject(), e.Type())
		}
	}
	if string(oas.Extra["x-trace"]) != `{"a":1}` {
		t.Fatalf("extra lost: %v", oas.Extra)
	}
}

func TestNotificationEncodeDialects(t *testing.T) {
	n, err := DecodeNotification([]byte(wikiNotification))
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"not_123","resource_type":"notification","date":"1663752217","consumer_id":"EU.EORI.NL000123456",` +
		`"provider_id":"EU.EORI.NL000345678","subscription_id":"sub_123","description":"...","event":[{"id":"eve_123",` +
		`"resource_type":"event","event_type":"Modified","date":"1663752228","description":"...",` +
		`"event_data":"Data record xyz has been modified by zyx"}]}`
	if string(got) != want {
		t.Fatalf("wiki encoding:\n got %s\nwant %s", got, want)
	}
	oas, err := n.Encode(DialectOAS)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"class":"notification"`, `"dateTime":"2022-09-21T09:23:37Z"`, `"subscriptionId":"sub_123"`, `"eventData":`} {
		if !strings.Contains(string(oas), k) {
			t.Errorf("OAS encoding lacks %s: %s", k, oas)
		}
	}
	// Round trip through the other dialect gives the same object.
	back, err := DecodeNotification(oas)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(n, back, cmp.Comparer(func(a, b *Notification) bool { return a.ID == b.ID })); d != "" {
		t.Fatalf("OAS round trip (-want +got):\n%s", d)
	}
}

func TestNotificationValidation(t *testing.T) {
	cases := map[string]struct {
		body string
		want error
	}{
		"not json":        {`{`, ErrDecode},
		"array":           {`[]`, ErrDecode},
		"no id":           {strings.Replace(wikiNotification, `"id":"not_123",`, "", 1), ErrInvalid},
		"no events":       {`{"id":"n","date":"1","consumer_id":"c","provider_id":"p","subscription_id":"s","event":[]}`, ErrInvalid},
		"bad time":        {strings.Replace(wikiNotification, `"1663752217"`, `"yesterday"`, 1), ErrDecode},
		"wrong type":      {strings.Replace(wikiNotification, `"notification"`, `"subscription"`, 1), ErrInvalid},
		"event no type":   {strings.Replace(wikiNotification, `"event_type":"Modified",`, "", 1), ErrInvalid},
		"event is string": {strings.Replace(oasNotification, `"event":{`, `"event":"x","y":{`, 1), ErrDecode},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := DecodeNotification([]byte(c.body))
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestSubscriptionVariants(t *testing.T) {
	var seed Subscription
	if err := json.Unmarshal([]byte(seedSubscription), &seed); err != nil {
		t.Fatal(err)
	}
	want := Subscription{
		ID: "sub_123", ResourceType: "subscription", URL: "/subscriptions/sub_123",
		CreatedDate: UnixTime{time.Date(2022, 9, 21, 10, 23, 37, 0, time.UTC)},
		StartDate:   UnixTime{time.Date(2022, 9, 21, 23, 59, 59, 0, time.UTC)},
		EndDate:     UnixTime{time.Date(2023, 9, 21, 23, 59, 59, 0, time.UTC)},
		ConsumerID:  "EU.EORI.NL000123456", ProviderID: "EU.EORI.NL000345678",
		Description: "detailed description of the subscription",
		EventTypes:  []string{"Modified,", "Deleted"}, Status: StatusActive,
		WebhookURL: "https://example.com/notifications",
	}
	if d := cmp.Diff(want, seed); d != "" {
		t.Fatalf("seed (-want +got):\n%s", d)
	}
	current := `{"id":"sub_123","class":"subscription","href":"/subscriptions/sub_123","created_date":"1663755817",
	 "start_date":1663804799,"end_date":null,"consumer_id":null,"provider_id":"EU.EORI.NL000345678",
	 "event_type":["Modified"],"status":"inactive","webhook_url":null,"x":true}`
	var s Subscription
	if err := json.Unmarshal([]byte(current), &s); err != nil {
		t.Fatal(err)
	}
	if s.URL != "/subscriptions/sub_123" || s.CreatedDate.Unix() != 1663755817 || s.StartDate.Unix() != 1663804799 ||
		!s.EndDate.IsZero() || s.Status != StatusInactive || string(s.Extra["x"]) != "true" {
		t.Fatalf("%+v", s)
	}
	out, err := json.Marshal(seed)
	if err != nil {
		t.Fatal(err)
	}
	wantJSON := `{"id":"sub_123","resource_type":"subscription","url":"/subscriptions/sub_123","href":"/subscriptions/sub_123",` +
		`"created_date":"1663755817","start_date":"1663804799","end_date":"1695340799","consumer_id":"EU.EORI.NL000123456",` +
		`"provider_id":"EU.EORI.NL000345678","description":"detailed description of the subscription",` +
		`"event_type":["Modified,","Deleted"],"status":"active","webhook_url":"https://example.com/notifications"}`
	if string(out) != wantJSON {
		t.Fatalf("encoding:\n got %s\nwant %s", out, wantJSON)
	}
	iso, _ := seed.Encode(DialectWikiISO)
	if !strings.Contains(string(iso), `"created_date":"2022-09-21T10:23:37Z"`) {
		t.Fatalf("ISO dialect: %s", iso)
	}
}

func TestSubscriptionListTolerant(t *testing.T) {
	var l SubscriptionList
	body := `{"count":"1","totalCount":1,"currentPage":1,"subscriptions":[` + seedSubscription + `]}`
	if err := json.Unmarshal([]byte(body), &l); err != nil {
		t.Fatal(err)
	}
	if l.Count != 1 || len(l.Subscriptions) != 1 || l.Subscriptions[0].ID != "sub_123" || l.Extra["totalCount"] == nil {
		t.Fatalf("%+v", l)
	}
	out, _ := json.Marshal(SubscriptionList{})
	if !strings.HasPrefix(string(out), `{"count":0,"subscriptions":[]`) {
		t.Fatalf("%s", out)
	}
}

func TestSubscriptionCreateRejectsWrongType(t *testing.T) {
	var c SubscriptionCreate
	err := json.Unmarshal([]byte(`{"resource_type":"event","event_type":["A"],"webhook_url":"https://x"}`), &c)
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("got %v", err)
	}
	if err := json.Unmarshal([]byte(`{"resource_type":"subscription","event_type":"A","webhook_url":"https://x","status":"active"}`), &c); err != nil {
		t.Fatal(err)
	}
	if len(c.EventTypes) != 1 || c.Extra["status"] == nil {
		t.Fatalf("%+v", c)
	}
}

// FuzzDecodeNotification: never panic; whatever decodes and validates
// re-encodes in every dialect and decodes back to the same ids.
func FuzzDecodeNotification(f *testing.F) {
	for _, s := range []string{wikiNotification, oasNotification, `{}`, `{"event":{}}`, `null`,
		`{"id":1,"date":1e400,"event":[null]}`, `{"id":"n","date":"1","consumer_id":"c","provider_id":"p","subscription_id":"s","event":{"id":"e","event_type":"T","event_data":{"k":[1,2]}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := DecodeNotification(b)
		if err != nil {
			if !errors.Is(err, ErrDecode) && !errors.Is(err, ErrInvalid) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		for _, d := range []Dialect{DialectWiki, DialectWikiISO, DialectOAS} {
			out, err := n.Encode(d)
			if err != nil {
				t.Fatalf("%v: %v", d, err)
			}
			back, err := DecodeNotification(out)
			if err != nil {
				t.Fatalf("%v: re-decode %s: %v", d, out, err)
			}
			if back.ID != n.ID || len(back.Events) != len(n.Events) || back.Date.Unix() != n.Date.Unix() {
				t.Fatalf("%v: round trip changed %s", d, out)
			}
		}
	})
}

// fastSeeds exercise the fast decoder's edges: aliases, blanks, nulls,
// event as object/array/null, numbers where strings belong.
var fastSeeds = []string{
	wikiNotification, oasNotification,
	`{"id":"n","date":"","dateTime":"5","consumer_id":" ","consumerId":"c","provider_id":"p","subscription_id":"s","event":null,"events":[{"id":"e","event_type":"T"}]}`,
	`{"id":"n","resource_type":"","class":"object","date":"0001-01-01T00:00:00Z","date_time":7,"consumer_id":"c","provider_id":"p","subscriptionId":"s","event":{"id":"e","eventType":"T","event_data":"","eventData":" "}}`,
	`{"id":7,"date":"1","event":[]}`,
	`{"id":"n","date":"1","event":[{"id":"e","event_type":"T","event_data":null,"eventData":{"a":[1,"]}"]}}]}`,
	` { "id" : "n" , "event" : [ { "id" : "e" } , { "x" : 1 } ] } `,
	`{"id":"a","id":"b","event":{"id":"e","id":"f"}}`,
	`{"id":"n\u00e9\"x","date":-5,"dateTime":"1e9","consumer_id":"c","provider_id":null,"event":[null]}`,
	"{\"id\":\"\xff\xfe\",\"date\":1.5,\"event\":[{\"id\":\"e\",\"event_type\":\"T\",\"date\":\"\\u0031\"}]}",
	`{"id":"n","date":"1","event":[],"events":[]}`,
}

// FuzzFastPathAgrees: wherever the fast decoder accepts a notification,
// the general decoder gives the same result.
func FuzzFastPathAgrees(f *testing.F) {
	for _, s := range fastSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast Notification
		if !fastNotification(b, &fast) {
			return
		}
		var gen Notification
		if err := gen.decodeGeneral(b); err != nil {
			t.Fatalf("fast path accepted what the general path rejects: %v", err)
		}
		if gen.Extra != nil {
			t.Fatalf("fast path dropped members %v", gen.Extra)
		}
		if d := cmp.Diff(gen, fast, cmp.Comparer(func(a, b *Notification) bool { return true })); d != "" {
			t.Fatalf("fast and general decoders disagree (-general +fast):\n%s", d)
		}
	})
}

// FuzzFastEventAgrees is FuzzFastPathAgrees for a single event object.
func FuzzFastEventAgrees(f *testing.F) {
	for _, s := range []string{`{"id":"e","event_type":"T","date":"1","event_data":"x"}`,
		`{"id":"e","class":"event","eventType":"T","dateTime":"2022-09-21T09:23:48Z","eventData":{"k":1},"event_data":" "}`,
		`{"id":" ","resource_type":"","object_type":"event","date":"","date_time":3}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast Event
		if !fastEvent(b, &fast) {
			return
		}
		var gen Event
		if err := gen.decodeGeneral(b); err != nil {
			t.Fatalf("fast path accepted what the general path rejects: %v", err)
		}
		if d := cmp.Diff(gen, fast); d != "" {
			t.Fatalf("fast and general decoders disagree (-general +fast):\n%s", d)
		}
	})
}

func TestEventAsCloudEvent(t *testing.T) {
	n, err := DecodeNotification([]byte(wikiNotification))
	if err != nil {
		t.Fatal(err)
	}
	b, err := notifykit.CloudEvent(n.Events[0])
	if err != nil {
		t.Fatal(err)
	}
	var ce map[string]any
	if err := json.Unmarshal(b, &ce); err != nil {
		t.Fatal(err)
	}
	if ce["id"] != "not_123/eve_123" || ce["source"] != "dsgo" || ce["type"] != "dsgo.event.modified" ||
		ce["subject"] != "sub_123" || ce["data"] != "Data record xyz has been modified by zyx" {
		t.Fatalf("%s", b)
	}
}
