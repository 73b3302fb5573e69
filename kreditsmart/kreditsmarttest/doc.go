// Package kreditsmarttest is an in-process fake of the AWS IoT Core side of
// Europace's KEX-PUSH, for tests of applications that use
// kreditsmart.Subscriber (and for the SDK's own tests).
//
// The fake is an MQTT 5 broker (github.com/mochi-mqtt/server/v2) behind a
// TLS listener that requires client certificates from its own throwaway CA,
// and it imitates what AWS IoT does differently from a plain broker:
//
//   - a policy per device (certificate common name): SUBSCRIBE only inside
//     the device's partner subtrees and to its own shadow topics, PUBLISH
//     only to its shadow's get and update topics; anything else closes the
//     connection without SUBACK, as AWS does;
//   - T/# does not match T itself (AWS's reading of #);
//   - topics and filters with more than 7 slashes or over 256 bytes,
//     payloads over 128 KB, subscription identifiers and QoS 2 subscriptions
//     close the connection;
//   - a device shadow service with get, update and update/documents.
//
// Deliveries are QoS 0 (see Server.Publish): the broker library can
// deadlock on concurrent QoS 1 deliveries to one client.
//
// The real shadow's shape is not public. The fake keeps the topic at
// TopicPointer ("/state/reported/topic") unless a test sets the document
// itself with SetShadow.
//
//	srv := kreditsmarttest.NewServer(t)
//	dev := srv.AddDevice("partner-1", "ECHTGESCHAEFT/ABC12")
//	sub, _ := kreditsmart.NewSubscriber(srv.Endpoint(), dev.Name,
//		kreditsmart.WithClientCertificate(dev.Certificate),
//		kreditsmart.WithRootCAs(srv.RootCAs()),
//		kreditsmart.WithThing(dev.Name),
//		kreditsmart.WithTopicPointer(kreditsmarttest.TopicPointer))
//	...
//	srv.PublishNotification("ECHTGESCHAEFT/ABC12/DEF34", "VN1245")
//
// Outside a test (local tools, the notifykit CLI's sandbox), Start returns
// the fake or an error and Close stops it; CreateDevice and ReplaceShadow
// are the error-returning forms of AddDevice and SetShadow, which fail the
// test (and, on a server from Start, panic). Close leaves no goroutines
// behind.
package kreditsmarttest
