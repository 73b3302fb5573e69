package banqup

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Envelope is the MassTransit message envelope. Every field is optional on
// the wire. For raw application/json deliveries it is filled from the AMQP
// properties and MassTransit's transport headers instead.
type Envelope struct {
	MessageID      string `json:"messageId"`
	RequestID      string `json:"requestId"`
	CorrelationID  string `json:"correlationId"`
	ConversationID string `json:"conversationId"`
	InitiatorID    string `json:"initiatorId"`
	// Addresses are MassTransit URIs such as rabbitmq://host/vhost/name.
	SourceAddress      string `json:"sourceAddress"`
	DestinationAddress string `json:"destinationAddress"`
	ResponseAddress    string `json:"responseAddress"`
	FaultAddress       string `json:"faultAddress"`
	// MessageType lists URNs: the concrete type, then its interfaces and
	// base types.
	MessageType URNList `json:"messageType"`
	// Message is the payload.
	Message        json.RawMessage `json:"message"`
	ExpirationTime Time            `json:"expirationTime"`
	SentTime       Time            `json:"sentTime"`
	// Headers is MassTransit's copy of the send headers.
	Headers map[string]any `json:"headers"`
	Host    *HostInfo      `json:"host"`
}

// HostInfo describes the process that sent a message.
type HostInfo struct {
	MachineName            string `json:"machineName"`
	ProcessName            string `json:"processName"`
	ProcessID              int    `json:"processId"`
	Assembly               string `json:"assembly"`
	AssemblyVersion        string `json:"assemblyVersion"`
	FrameworkVersion       string `json:"frameworkVersion"`
	MassTransitVersion     string `json:"massTransitVersion"`
	OperatingSystemVersion string `json:"operatingSystemVersion"`
}

// URNList is the envelope's messageType: a JSON array of URNs. A single
// string (URNs separated by ';', as in the MT-MessageType header) is read
// too.
type URNList []string

// UnmarshalJSON accepts an array of strings, a string, or null.
func (u *URNList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*u = nil
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("%w: messageType: %v", ErrMalformed, err)
		}
		*u = splitURNs(s)
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("%w: messageType must be an array of strings", ErrMalformed)
	}
	*u = list
	return nil
}

func splitURNs(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
