package notifykit

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type payloadEvent struct {
	testEvent
	ct   string
	data []byte
	at   time.Time
}

func (p payloadEvent) EventData() (string, []byte) { return p.ct, p.data }
func (p payloadEvent) Time() time.Time             { return p.at }

func TestCloudEventStructuredJSON(t *testing.T) {
	e := payloadEvent{
		testEvent: testEvent{id: "m-1", subject: "4711"},
		ct:        "application/json",
		data:      []byte(`{"vorgangsnummer":"4711"}`),
		at:        time.Date(2026, 11, 23, 8, 0, 0, 123000000, time.FixedZone("", 3600)),
	}
	b, err := CloudEvent(e)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"specversion":     "1.0",
		"id":              "m-1",
		"source":          "test",
		"type":            "test.thing.changed",
		"subject":         "4711",
		"time":            "2026-11-23T07:00:00.123Z",
		"datacontenttype": "application/json",
		"data":            map[string]any{"vorgangsnummer": "4711"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("CloudEvent (-want +got):\n%s", d)
	}
}

func TestCloudEventBinaryDataIsBase64(t *testing.T) {
	b, err := CloudEvent(payloadEvent{testEvent: testEvent{id: "1"}, ct: "text/plain", data: []byte("hi")})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	_ = json.Unmarshal(b, &got)
	if got["data_base64"] != "aGk=" || got["data"] != nil || got["time"] != nil {
		t.Fatalf("got %s", b)
	}
}

func TestCloudEventRequiresID(t *testing.T) {
	if _, err := CloudEvent(testEvent{}); !errors.Is(err, ErrCloudEvent) {
		t.Fatalf("err = %v, want ErrCloudEvent", err)
	}
}
