package comnormserver

import (
	"bytes"
	"testing"
	"time"
)

// FuzzRecords: the bbolt record codecs never panic on damaged bytes and
// round-trip what they encode.
func FuzzRecords(f *testing.F) {
	f.Add("m1", []byte(`{"a":1}`), int64(1700000000000000000), []byte{})
	f.Add("", []byte{}, int64(0), []byte{1, 2, 3})
	f.Add("x", []byte("{\"ü\":\"€\"}"), int64(-5), bytes.Repeat([]byte{0xff}, 50))
	f.Fuzz(func(t *testing.T, id string, body []byte, nanos int64, junk []byte) {
		_, _ = decodeMessage(junk)
		_, _ = decodeQueue("q", junk)
		if len(id) > 255 {
			return
		}
		m := MessageRecord{ID: id, Body: body, Created: time.Unix(0, nanos).UTC()}
		got, err := decodeMessage(encodeMessage(m))
		if err != nil || got.ID != m.ID || !bytes.Equal(got.Body, m.Body) || !got.Created.Equal(m.Created) {
			t.Fatalf("message round trip: %+v -> %+v, %v", m, got, err)
		}
		q := QueueRecord{ID: "q", Owner: id, Created: time.Unix(0, nanos).UTC()}
		copy(q.SecretHash[:], body)
		gq, err := decodeQueue("q", encodeQueue(q))
		if err != nil || gq != q {
			t.Fatalf("queue round trip: %+v -> %+v, %v", q, gq, err)
		}
	})
}
