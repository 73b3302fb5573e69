// Package dsgoprovider is the provider side of DSGO subscriptions: the
// /subscriptions API, an iSHARE /connect/token endpoint, and a dispatcher
// that delivers notifications to subscribers' webhooks.
//
// # Tour
//
//	store, _ := dsgoprovider.OpenBoltStore("provider.db") // or NewMemoryStore()
//	srv, _ := dsgoprovider.New("EU.EORI.NL000345678", trustedRoots, store,
//		dsgoprovider.WithEventTypes("Modified", "Deleted"),
//		dsgoprovider.WithWebhookAuth(dsgoprovider.SignedAssertionAuth(myCreds)))
//	http.Handle("/", srv)             // /connect/token, /subscriptions...
//	go srv.Run(ctx)                   // the dispatcher
//	srv.Publish(ctx, dsgo.Event{EventType: "Modified", Data: json.RawMessage(`"record 7"`)})
//
// # API behaviour
//
// Callers authenticate with an access token from the provider's own
// /connect/token (client assertion verified by dsgo.AssertionVerifier:
// RS256, typ JWT, x5c chain to trustedRoots, iss = sub = client_id, aud =
// own ID, 30 s lifetime, 10 s skew, replay cache; scopes "iSHARE" and
// "dsgo ishare"). A Policy may refuse (403). consumer_id is the caller;
// each caller sees only its own subscriptions (another party's id is 404).
// POST validates resource_type, event_type (a subset of WithEventTypes when
// set) and an absolute https webhook_url, and answers 201 with Location and
// status active. DELETE answers 200 without a body and only for active
// subscriptions (404 otherwise: DSGO documents no other code); the
// subscription stays readable as inactive. POST /subscriptions/{id}/test
// answers 202 with the event and queues a notification of event type
// "Test". Every response carries Cache-Control: no-store. Error bodies are
// OAuth-style {"error","error_description"}.
//
// # Dispatcher
//
// Publish writes one notification per matching active subscription into the
// store's outbox before returning; Run claims due deliveries (with a lease,
// so several instances on a shared store never send the same one at once),
// POSTs them with the configured WebhookAuth and records every attempt.
// 2xx is success; network errors, 401 (credentials renewed), 408, 429 and
// 5xx are retried with backoff (5 s doubling to 1 h, jittered, at most 12
// attempts; Retry-After is honoured up to 1 h); other answers fail at once.
// Every attempt sends the same bytes with the same notification id. A
// delivery whose subscription turned inactive is cancelled. Deliveries that
// fail for good are reported to OnError as *DeliveryError. Subscriptions
// past their end_date are deactivated by Run.
//
// The default HTTP client refuses webhook targets on loopback, private,
// link-local, CGNAT and other non-public addresses, checked on the
// resolved address when dialling (SSRF); it uses no proxy and follows no
// redirects. WithAllowPrivateTargets lifts this for tests and in-house
// setups; WithAllowHTTPWebhooks allows http:// URLs.
//
// # Stores
//
// Store holds subscriptions and the outbox. NewMemoryStore is for tests;
// OpenBoltStore (bbolt) is the durable embedded default. A store shared by
// several instances (a database) implements the same interface and must
// pass storetest.Run. Several instances behind a load balancer also share
// issued access tokens and the assertion replay cache:
// WithVerifierOptions(dsgo.WithTokenStore(...), dsgo.WithReplayStore(...)).
package dsgoprovider
