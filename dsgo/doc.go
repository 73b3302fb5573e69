// Package dsgo implements DSGO (Digitaal Stelsel Gebouwde Omgeving)
// subscriptions and webhook notifications with iSHARE authentication, for
// the consumer side: the /subscriptions client, the iSHARE token source, and
// the webhook receiver. The provider side is in dsgo/dsgoprovider, an
// in-process provider for tests in dsgo/dsgotest.
//
// Spec: shared/specs/dsgo.md (DSGO wiki subscription, notification and
// event resources; OpenAPI v2.0 DSGOv20r001.yaml; iSHARE v2.0 token and JWT
// rules).
//
// # Tour
//
// Credentials are a party's organisation ID, RSA key and x5c chain:
//
//	creds, err := dsgo.LoadCredentials("EU.EORI.NL000123456", "key.pem", "chain.pem")
//
// A Client manages subscriptions at a provider; it fetches and caches
// iSHARE access tokens by itself:
//
//	c, err := dsgo.NewClient("https://provider.example/api",
//		dsgo.WithCredentials(creds, "EU.EORI.NL000345678")) // provider's party ID = aud
//	sub, err := c.Subscriptions.Create(ctx, dsgo.SubscriptionCreate{
//		EventTypes: []string{"Modified"}, WebhookURL: "https://me.example/dsgo"})
//	list, err := c.Subscriptions.List(ctx)
//	err = c.Subscriptions.Delete(ctx, sub.ID)
//
// A Receiver is the webhook the provider POSTs notifications to:
//
//	r, err := dsgo.NewReceiver("EU.EORI.NL000123456", dsgo.StaticBearer(secret))
//	r.OnEvent(func(ctx context.Context, e *dsgo.Event) error { ... })
//	http.Handle("/dsgo", r)
//
// # Authentication
//
// ClientAssertion builds the iSHARE client assertion exactly as strict
// validators (POORT8) expect: header {alg RS256, typ JWT, x5c}, iss = sub =
// client ID, aud = the server's party ID as a single string, random jti,
// iat = nbf = now, exp = iat + 30 s. ISHARETokenSource posts it with
// grant_type=client_credentials and scope "iSHARE" (WithScope for the wiki's
// "dsgo ishare") to <base>/connect/token (WithTokenURL for /token), caches
// the token until 60 s before expires_in, runs one fetch at a time, and the
// Client refetches once when a call is answered 401.
//
// DSGO leaves webhook authentication to the consumer. The receiver requires
// an explicit Authenticator: StaticBearer (shared secret),
// BearerFromTokenEndpoint (the provider fetched a token from our own
// TokenEndpoint, the iSHARE way), SignedAssertion (the bearer is a fresh
// client assertion addressed to us, checked against trusted roots with a
// replay cache), or AllowUnauthenticated. When the authenticator identifies
// the caller, the notification's provider_id must be that party (403
// otherwise).
//
// AssertionVerifier and TokenEndpoint are the server half of iSHARE,
// shared by the receiver and dsgoprovider: RS256 only, typ JWT, x5c chain
// to a trusted root, iss == sub == client_id, aud == own ID as a string,
// exactly 30 s between iat/nbf and exp, 10 s skew, jti replay cache.
// Registry and trusted-list lookups plug in with WithPartyCheck.
//
// # Wire format
//
// DSGO sources disagree (see the spec's [Δ] marks). Decoders accept all of
// them: url or href, resource_type or class, date or dateTime,
// subscription_id or subscriptionId, event_data or eventData, event as one
// object or an array, timestamps as UNIX seconds in a string or number or
// as ISO 8601; unknown members are kept in Extra and written back. Encoders
// write one Dialect: DialectWiki by default (UNIX seconds as strings;
// subscriptions carry both url and href), DialectWikiISO, or DialectOAS.
//
// # Choices where the spec is silent
//
//   - Event.ID is "<notification id>/<event id>", the receiver's dedupe key
//     is (provider_id, notification id, event id): a provider retry after a
//     partial failure redoes only the events that failed, and providers that
//     reuse event ids across notifications are safe. Dedupe is in memory
//     for 24 h by default (WithDedupe for a shared store, WithoutDedupe).
//   - The receiver answers 200 on success and for duplicates, 400 for an
//     invalid notification or one addressed to another consumer_id, 401/403
//     for authentication, 413 over the body limit (1 MiB), 500 when the
//     handler fails (the provider retries); error bodies are OAuth-style
//     {"error","error_description"}. A discriminator of "object" (OpenAPI
//     examples) is accepted alongside "notification"/"event".
//   - WithEnqueue answers 200 once the notification is stored by the
//     application (asynchronous mode); a worker then calls Receiver.Deliver,
//     which dedupes and runs the handler.
//   - The client retries 429 and 503 honouring Retry-After (4 attempts,
//     Retry-After capped at 1 min by default), and network errors on GET and
//     DELETE (not POST, which may have been processed); a 401 triggers one
//     token refresh and retry. Delete accepts 200 and 204 and maps 409 to
//     ErrNotActive; 404 is ErrNotFound everywhere.
//   - Token responses with token_type "bearer" in any case are accepted;
//     a missing expires_in means iSHARE's 3600 s.
//   - Non-repudiation JWTs, delegation evidence, /capabilities discovery and
//     PKCS#12 key files are not implemented in this version.
package dsgo
