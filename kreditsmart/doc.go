// Package kreditsmart receives Europace KreditSmart KEX-PUSH notifications:
// "Vorgang X changed, re-read it". Both of Europace's channels deliver the
// same *Notification to the same handler, so switching from the legacy MQTT
// channel to the webhook channel is a configuration change.
//
// Spec: shared/specs/kreditsmart.md; vendor text "Push-Mechanism for
// changes to Vorgänge in KreditSmart".
//
// # MQTT over AWS IoT Core (legacy channel)
//
// A Subscriber connects to Europace's AWS IoT endpoint with the X.509
// client certificate Europace issued (one for Echtgeschäft, one for the
// Testumgebung), learns its topic (its Partnerbaum) from the device shadow,
// subscribes T/# at QoS 1 and calls the handler once per message:
//
//	sub, err := kreditsmart.NewSubscriber("abc123-ats.iot.eu-central-1.amazonaws.com", "my-client-id",
//		kreditsmart.WithClientCertificateFiles("client.pem", "client.key"),
//		kreditsmart.WithThing("my-thing"),
//		kreditsmart.WithTopicPointer("/state/reported/topic"), // see FetchShadow
//		kreditsmart.WithWatchShadow(true, 15*time.Minute),
//		kreditsmart.WithOnError(func(err error) { log.Print(err) }))
//	sub.OnNotification(func(ctx context.Context, n *kreditsmart.Notification) error {
//		return reread(ctx, n.Vorgangsnummer) // via the KEX Vorgang export API
//	})
//	sub.OnGap(func(ctx context.Context, g *kreditsmart.Gap) { reconcile(g.Start, g.End) })
//	err = sub.Run(ctx)
//
// What the subscriber does on every connection, and why:
//
//   - mTLS with TLS ≥ 1.2, SNI = endpoint host, no session tickets, trust in
//     the system pool plus the embedded Amazon Root CA 1 and 3. Port 8883 by
//     default; WithPort(443) adds ALPN x-amzn-mqtt-ca. MQTT 5, clean start,
//     keep-alive 60 s (WithKeepAlive allows AWS's 30–1200 s).
//   - Topic resolution: it subscribes exactly the shadow's get/accepted and
//     get/rejected (no wildcards: a policy may grant topics one by one),
//     publishes get with a random clientToken, and reads the topic at the
//     configured JSON pointer or with WithTopicFunc. Europace has not
//     published the shadow's shape, so there is no built-in guess: when
//     nothing is configured or the pointer does not match, Run ends with a
//     *TopicError that says so; print the document with FetchShadow once.
//     WithShadowHTTPS reads the shadow with GetThingShadow over HTTPS (port
//     8443, same certificate, SigV4 signing off) for policies without the
//     MQTT shadow topics. WithStaticTopic skips the shadow.
//   - Filters are validated locally against AWS's limits (≤ 7 slashes,
//     ≤ 256 bytes, no misplaced wildcards). It subscribes T/#, and T itself
//     with WithSubscribeParent, because AWS's # does not match the parent
//     level. QoS 1, never a subscription identifier (AWS disconnects).
//   - Reconnects use jittered exponential backoff, and at least one second
//     passes between two CONNECTs of one client id (AWS's throttle).
//     WithReconnectBackoff lowers that for tests. The client id must be
//     unique per process: AWS keeps one connection per id and disconnects
//     the older one, so two replicas with one id evict each other forever.
//     Run several instances with distinct ids and WithSharedSubscription.
//   - Gaps: Europace and AWS store nothing while a subscriber is offline.
//     Every disconnect→resubscribe interval is reported as a *Gap (OnGap,
//     and as an event to a WithHandler handler) so the application can
//     reconcile through the export API.
//   - Topic changes (update/documents with WithWatchShadow, or a periodic
//     re-read): subscribe the new filter first, then unsubscribe the old,
//     report a *TopicChange. A message matching both filters during the
//     overlap is delivered once (the second copy is dropped by topic and
//     payload, so two identical payloads within the overlap count as one —
//     harmless, a notification only means "re-read").
//   - Loop guard: AWS answers a SUBSCRIBE outside the policy by closing the
//     connection. After 3 such drops within 10 s (WithLoopGuard), or one
//     SUBACK with a failure code, the subscriber stops subscribing that
//     topic, re-reads the shadow and moves on if it names another topic;
//     otherwise Run ends with a *SubscriptionError.
//
// Delivery: one handler call per message; the message is acknowledged
// after the handler returned. By default messages are handled one at a
// time in arrival order on paho's routing goroutine; WithConcurrency(n)
// runs n at once (acknowledgements still go out in order). MQTT has no
// negative acknowledgement and Europace does not redeliver, so a handler
// error (after WithRetry attempts) is reported to OnError as a
// *HandlerError carrying the notification, and the message is acknowledged
// all the same: reconcile the Vorgang through the export API. Malformed
// payloads (not JSON, no vorgangsnummer, over 128 KB) go to OnError as
// *PayloadError with topic and raw bytes; the subscriber keeps running.
// WithCoalesce(window) merges messages per Vorgangsnummer into one call
// with the latest of them (merging happens before middlewares, in arrival
// order); every merged message is acknowledged after that call.
//
// Run returns nil after ctx ends and in-flight handlers finished. It ends
// early only when retrying cannot help: certificate failures
// (*ConnectError with Permanent set), an unresolvable topic (*TopicError),
// a rejected subscription with no alternative (*SubscriptionError).
//
// # Webhook (new channel)
//
// WebhookHandler is an http.Handler that checks X-SIGNATURE =
// base64(HMAC-SHA256(secret, raw body)) in constant time against one or
// more secrets (rotation), limits the body (64 KiB by default), decodes
// {vorgangsnummer, teilantragsnummer} tolerating unknown fields and answers
// 200, 400 (malformed), 401 (signature), 405, 413, 415 or 500 (handler
// error, so Europace retries). Verify and Sign are the pure functions
// behind it; Sign builds requests in tests.
//
// # Choices where the vendor is silent
//
//   - Notification.ID is a digest of the raw payload (a redelivery keeps
//     it); Time is letztesAenderungsDatum, which Europace documents as the
//     send time. Teilantragsnummer is "" when null: it concerns the Vorgang.
//   - The topic's root segment (ECHTGESCHAEFT, PROD_TESTUMGEBUNG) is never
//     assumed; it comes from the shadow or the configuration.
//   - Thing name: configured with WithThing (often equal to the client id).
//   - Signature alphabet: standard base64 first, then unpadded and URL-safe.
//   - Deduplication is off: Europace does not deduplicate, and a
//     notification only means "re-read". notifykit.Dedupe given with
//     WithMiddleware keys by Notification.ID, the digest of the raw body:
//     on the webhook channel that is (vorgangsnummer, teilantragsnummer).
//   - Not offered: MQTT 3.1.1 and persistent sessions. Europace stores
//     nothing for offline subscribers, so a session would only replay
//     AWS's in-flight messages and needs an extra policy grant; the
//     subscriber always starts clean and reports the gap instead.
//
// For tests, package kreditsmarttest runs a fake AWS IoT endpoint in
// process (mTLS broker, per-device policy, shadow service).
package kreditsmart
