// Package banqup consumes banqUP's (Psd2Hub) data streams — accounts,
// transactions, finished aggregation sessions, consents and ASPSP calls —
// which banqUP publishes to RabbitMQ in MassTransit envelopes.
//
// banqUP sends every event exactly once and cannot resend it, so this
// package is built around one promise: a message is acknowledged only after
// your handler returned nil, or after a copy was confirmed by the broker in
// an error or skipped queue where an operator sees it. Nothing is dropped.
//
// Spec: shared/specs/banqup.md; vendor document "Streaming danych"
// (support.banqware.com/en/articles/395939-streaming-danych).
//
// # Tour
//
//	c, err := banqup.NewConsumer("amqp://user:pass@rabbit/vhost", "myapp-banqup",
//		banqup.WithLogger(logger),
//		banqup.WithOnError(func(err error) { alert(err) }),
//		banqup.WithOrdering(),
//	)
//	c.OnTransaction(func(ctx context.Context, e *banqup.TransactionEvent) error {
//		return store.UpsertTransaction(ctx, e.Message.Data.ID, e.Message.Data.Amount.Value())
//	})
//	c.OnConsent(func(ctx context.Context, e *banqup.ConsentEvent) error { … })
//	err = c.Run(ctx) // until ctx ends; reconnects by itself
//
// Models: AccountMessage, TransactionMessage, SessionFinishedMessage,
// ConsentMessage and AspspCall carry every documented field. Amounts are
// Decimal (exact text, never float64; JSON strings and numbers accepted),
// times are Time (RFC 3339 with up to 7 fractional digits, with or without
// offset, or a date), requestDuration is a .NET TimeSpan. Enumerations are
// open string types compared case-insensitively; unknown values are kept.
//
// Events: each stream has an event type (*TransactionEvent, …) implementing
// notifykit.Event and notifykit.EventData, so the notifykit middlewares
// (Recover, Dedupe, Coalesce) and CloudEvent work on them. Raw() gives the
// MassTransit envelope, AMQP headers (HeaderString reads any AMQP type) and
// the raw body. Decode turns a single amqp091-go delivery into an event for
// programs that run their own consumer loop.
//
// Tests: package banquptest publishes exactly what banqUP's MassTransit
// publisher sends (both serializer flavours) and has a fixture per stream.
//
// # Topology
//
// By default Run declares the receive endpoint the way MassTransit does: a
// durable queue Q, a fanout exchange Q bound to it, each subscribed
// stream's type exchange (fanout, durable — MassTransit's exact settings,
// since any difference fails with 406) bound exchange-to-exchange to Q, and
// Q_error and Q_skipped (exchange plus queue). Declaring is the default,
// rather than the spec's "passive", because banqUP's messages published
// before the binding exists are lost; WithPassiveTopology only checks that
// everything exists. Streams with a typed handler are subscribed, or all
// five with WithHandler; WithStreams overrides. Bindings are never removed.
//
// # Settlement
//
//   - Handler returns nil: ack.
//   - Handler error: retried in-process (WithRetry; default 3 attempts,
//     jittered exponential backoff 200 ms .. 5 s), unless wrapped with
//     notifykit.Permanent; then the original body and properties go to
//     Q_error with MassTransit's fault headers (MT-Reason: fault,
//     MT-Fault-ExceptionType, -Message, -Timestamp, -StackTrace,
//     -InputAddress, -MessageType, -RetryCount, MT-Host-*), and the original
//     is acked once the broker confirmed the copy. OnError gets a
//     *HandlerError. A panic is a failure like any other.
//   - Undecodable body (empty, invalid UTF-8, broken JSON, wrong field
//     type): Q_error, MT-Reason: fault. OnError gets a *DecodeError.
//   - Unknown message type, unsupported content type (BSON, XML,
//     encrypted), or no handler for the stream: Q_skipped with MT-Reason:
//     dead-letter, as MassTransit does.
//   - A copy that cannot be stored (broker nack, unroutable, no confirm
//     within 30 s): the connection is dropped and re-established, so the
//     original is redelivered, never lost and never requeued in a tight loop.
//
// Copies carry an extra header, NotifyKit-Settle-Seq, which matches a
// broker's basic.return to its publish.
//
// Messages are never requeued by nack. A lost connection or channel makes
// the broker redeliver whatever was unacked; in-flight handlers of that
// channel see their context cancelled and their late acks are dropped
// (delivery tags belong to their channel). So handlers must be idempotent,
// which banqUP requires anyway: every synchronisation re-sends the entity
// with a new messageId, and for Citi Handlowy an account arrives twice
// ("created" with a masked IBAN, then "updated" with the real one).
// notifykit.Dedupe by ID removes redeliveries, not these re-syncs; key your
// writes by entity id and compare content.
//
// # Concurrency and order
//
// WithPrefetch (default 128) bounds unacked deliveries, WithConcurrency
// (default 8) the handlers running at once; the defaults reach the
// banqup-consume benchmark bar (≥ 0.90 of a raw amqp091-go consumer with
// the same prefetch). Acks are batched per channel: one multiple-ack covers
// every settled delivery below the oldest one still in progress, and a
// delivery settled out of order is acked on its own within 2 ms, so a slow
// message never holds back the prefetch window. WithOrdering keeps the messages of one entity in
// order — the account for account, transaction and session messages, the
// consent for consent messages, the APIHub session for ASPSP calls — while
// other entities run in parallel. A session-finished message may still
// overtake transactions that banqUP itself sent late or that were
// redelivered; check that its data.id was seen.
//
// # Connection and shutdown
//
// Run reconnects with jittered exponential backoff (WithReconnectBackoff)
// after any connection or channel loss, redeclares the topology and
// resumes; state changes go to WithOnStateChange, the logger and OnError.
// Consume and publish use separate connections. Heartbeats default to
// 10 s. Handlers get a timeout (default 5 min) below RabbitMQ's
// consumer_timeout. When Run's context ends, Run cancels the consumer,
// lets the deliveries it already holds finish (bounded by
// WithShutdownTimeout, default 30 s; then handler contexts are
// cancelled), and closes: unfinished deliveries return to the queue. A
// message whose retry backoff is interrupted by shutdown is left for
// redelivery rather than sent to Q_error. Run returns nil after a clean
// shutdown, and an error matching ErrTopology or ErrAccessRefused when the
// broker rejects the configuration (these are not retried).
//
// # Choices where the spec is silent
//
//   - Nullable strings decode to "" (null, missing and "" are alike under
//     Newtonsoft); nullable numbers, booleans and objects are pointers.
//   - Decoding never checks required fields; Validate does.
//   - A .NET enum sent as an integer is kept as its decimal text.
//   - Event types: banqup.<account|transaction|consent>.<created|updated|
//     deleted> ("changed" for other operations), banqup.session.finished,
//     banqup.aspspcall.completed. Subjects: account id, transaction id,
//     account id (session finished), consent id, execution id (ASPSP call).
//   - ID is the MassTransit messageId, falling back to the AMQP message-id,
//     then to a digest of the body.
package banqup
