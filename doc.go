// Package notifykit is the shared core of the notifykit SDK, which lets Go
// services receive partner-platform notifications reliably.
//
// Four channels live in packages of their own, each importable alone:
//
//   - kreditsmart: Europace KreditSmart "KEX-PUSH" (a Vorgang changed) over
//     MQTT 5 to AWS IoT Core, and Europace's signed webhook.
//   - banqup: banqUP (Psd2Hub) account, transaction, session, consent and
//     ASPSP-call streams on RabbitMQ in MassTransit envelopes.
//   - comnorm: ComNorm notification queues over REST, and a compatible
//     self-hostable queue server.
//   - dsgo: DSGO subscriptions with iSHARE authentication, the webhook
//     receiver, and the provider side.
//
// This package holds what they share and depends on none of them.
//
// # Events and handlers
//
// Every channel's notifications implement Event (ID, Source, Type, Subject,
// Time), so one application can send all four through one Handler. Each
// channel also offers typed handlers for full type safety.
//
// A handler's result settles the delivery: nil means processed (the
// transport acks, deletes or answers 200); an error means not processed
// (retry, keep, 5xx); an error wrapped with Permanent skips the retries and
// goes straight to the channel's error destination. No channel acknowledges
// a notification before its handler returned nil: delivery is at least once,
// so handlers must tolerate duplicates — or use Dedupe.
//
// # Middlewares
//
// Chain composes middlewares around a handler, outermost first:
//
//	h := notifykit.Chain(myHandler,
//		notifykit.Recover(),                     // panic → *PanicError
//		notifykit.Dedupe(nil, 24*time.Hour),     // skip redelivered IDs
//		notifykit.Coalesce(2*time.Second),       // one call per Subject per window
//	)
//
// Dedupe keys on ID and keeps a bounded in-memory store by default; a
// DedupeStore shared through a database lets several instances suppress
// duplicates together. Coalesce merges events with the same Subject into
// one call with the latest, and makes every merged delivery wait for that
// call's result, so nothing is acknowledged before it was handled.
//
// # CloudEvents
//
// CloudEvent renders any event as CloudEvents 1.0 structured JSON, for
// forwarding to an event bus or printing, without the CloudEvents SDK.
package notifykit
