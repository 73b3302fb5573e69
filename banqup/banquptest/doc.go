// Package banquptest puts on a RabbitMQ exactly what banqUP's MassTransit
// publisher puts there, for the tests of applications built on package
// banqup (and for ours).
//
// NewPublishing builds one message of a stream — persistent, content type
// application/vnd.masstransit+json, message id set, the MassTransit envelope
// with its host block, camelCase fields, decimals as strings — in the
// System.Text.Json flavour MassTransit 8 writes by default, or the
// Newtonsoft flavour of older publishers (WithSerializer). Publisher sends
// such messages to the stream's exchange, declared the way MassTransit
// declares it. Fixture returns a payload for every stream, built from the
// examples in banqUP's streaming documentation.
//
//	pub, err := banquptest.NewPublisher(ctx, amqpURL)
//	...
//	id, err := pub.Publish(ctx, banqup.StreamTransaction, banquptest.Fixture(banqup.StreamTransaction))
//
// The returned id is the MassTransit messageId, which is also the event's
// ID on the consuming side: tests count unique ids with it.
package banquptest
