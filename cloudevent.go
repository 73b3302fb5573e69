package notifykit

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strings"
	"time"
)

// EventData is implemented by events that carry a payload. CloudEvent
// renders it as the CloudEvents data member.
type EventData interface {
	// EventData returns the payload and its media type, such as
	// "application/json" for a raw JSON body.
	EventData() (contentType string, data []byte)
}

// ErrCloudEvent is matched (errors.Is) when an event lacks a member
// CloudEvents requires (id, source or type).
var ErrCloudEvent = errors.New("notifykit: event cannot be rendered as a CloudEvent")

// cloudEvent is the CloudEvents 1.0 structured-mode JSON form.
type cloudEvent struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Subject         string          `json:"subject,omitempty"`
	Time            string          `json:"time,omitempty"`
	DataContentType string          `json:"datacontenttype,omitempty"`
	Data            json.RawMessage `json:"data,omitempty"`
	DataBase64      []byte          `json:"data_base64,omitempty"`
}

// CloudEvent renders e as a CloudEvents 1.0 event in structured-mode JSON
// (the application/cloudevents+json media type). A JSON payload (see
// EventData) is embedded as data; any other payload travels base64-encoded
// as data_base64, as the JSON format requires.
func CloudEvent(e Event) ([]byte, error) {
	ce := cloudEvent{
		SpecVersion: "1.0",
		ID:          e.ID(),
		Source:      e.Source(),
		Type:        e.Type(),
		Subject:     e.Subject(),
	}
	for name, v := range map[string]string{"id": ce.ID, "source": ce.Source, "type": ce.Type} {
		if v == "" {
			return nil, fmt.Errorf("%w: empty %s", ErrCloudEvent, name)
		}
	}
	if t := e.Time(); !t.IsZero() {
		ce.Time = t.UTC().Format(time.RFC3339Nano)
	}
	if d, ok := e.(EventData); ok {
		ct, data := d.EventData()
		if len(data) > 0 {
			ce.DataContentType = ct
			if isJSON(ct) && json.Valid(data) {
				ce.Data = data
			} else {
				ce.DataBase64 = data
			}
		}
	}
	return json.Marshal(ce)
}

// isJSON reports whether a media type is JSON: application/json or any
// +json structured suffix. An empty type is JSON by the CloudEvents rule.
func isJSON(contentType string) bool {
	if contentType == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json")
}
