package banqup

import "strings"

// Stream is one of banqUP's five message streams.
type Stream string

// The five streams.
const (
	StreamAccount         Stream = "account"
	StreamTransaction     Stream = "transaction"
	StreamSessionFinished Stream = "session"
	StreamConsent         Stream = "consent"
	StreamAspspCall       Stream = "aspspcall"
)

// Streams lists all five streams.
func Streams() []Stream {
	return []Stream{StreamAccount, StreamTransaction, StreamSessionFinished, StreamConsent, StreamAspspCall}
}

// streamTypes maps a stream to its .NET type name, which is both its
// exchange name and, behind "urn:message:", its MassTransit URN.
var streamTypes = map[Stream]string{
	StreamAccount:         "Psd2Hub.Services.PushService.Models.Finat.Streaming.Accounts:AccountMessage",
	StreamTransaction:     "Psd2Hub.Services.PushService.Models.Finat.Streaming.Transactions:TransactionMessage",
	StreamSessionFinished: "Psd2Hub.Services.PushService.Models.Finat.Streaming.Session:SessionFinishedMessage",
	StreamConsent:         "Psd2Hub.Services.PushService.Models.Finat.Streaming.Consents:ConsentMessage",
	StreamAspspCall:       "Psd2Hub.Services.PushService.Models:AspspCall",
}

var typeStreams = func() map[string]Stream {
	m := make(map[string]Stream, len(streamTypes))
	for s, t := range streamTypes {
		m[t] = s
	}
	return m
}()

// Valid reports whether s is one of the five streams.
func (s Stream) Valid() bool { _, ok := streamTypes[s]; return ok }

// Exchange is the fanout exchange banqUP publishes the stream to, named
// the MassTransit way ("Namespace:TypeName").
func (s Stream) Exchange() string { return streamTypes[s] }

// URN is the MassTransit message type URN of the stream.
func (s Stream) URN() string {
	if t, ok := streamTypes[s]; ok {
		return urnPrefix + t
	}
	return ""
}

const urnPrefix = "urn:message:"

// StreamForURN returns the stream a MassTransit message type URN names.
// Only an exact, non-generic type matches: the URN of
// Fault[[…AccountMessage]] is a fault, not an account message. Surrounding
// space is ignored; the "urn:message:" prefix may be missing (MassTransit's
// MessageUrn attribute with useDefaultPrefix: false).
func StreamForURN(urn string) (Stream, bool) {
	name := strings.TrimSpace(urn)
	if len(name) >= len(urnPrefix) && strings.EqualFold(name[:len(urnPrefix)], urnPrefix) {
		name = name[len(urnPrefix):]
	}
	s, ok := typeStreams[name]
	return s, ok
}

// StreamForExchange returns the stream whose type exchange is named
// exchange: the fallback dispatch key when a message carries no usable
// messageType.
func StreamForExchange(exchange string) (Stream, bool) {
	s, ok := typeStreams[exchange]
	return s, ok
}
