package dsgo

import (
	"encoding/json"
	"testing"
)

var benchBody = []byte(`{"id":"not_1","resource_type":"notification","date":"1663752217","consumer_id":"EU.EORI.NL000123456","provider_id":"EU.EORI.NL000345678","subscription_id":"sub_123","description":"Record changed","event":[{"id":"eve_1","resource_type":"event","event_type":"Modified","date":"1663752217","description":"Record changed","event_data":"Data record xyz has been modified by zyx"}]}`)

func BenchmarkDecodeNotification(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeNotification(benchBody); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeStructBaseline(b *testing.B) {
	type ev struct {
		ID, ResourceType, EventType, Date, Description string
		EventData                                      json.RawMessage `json:"event_data"`
	}
	type n struct {
		ID             string `json:"id"`
		ResourceType   string `json:"resource_type"`
		Date           string `json:"date"`
		ConsumerID     string `json:"consumer_id"`
		ProviderID     string `json:"provider_id"`
		SubscriptionID string `json:"subscription_id"`
		Description    string `json:"description"`
		Event          []ev   `json:"event"`
	}
	b.ReportAllocs()
	for b.Loop() {
		var v n
		if err := json.Unmarshal(benchBody, &v); err != nil {
			b.Fatal(err)
		}
	}
}
