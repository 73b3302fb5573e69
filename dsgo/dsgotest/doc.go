// Package dsgotest helps test code that uses dsgo: an in-process DSGO
// provider (NewProvider: /subscriptions, /connect/token and the dispatcher
// on an httptest server, fast retries, loopback webhooks allowed) and a
// throwaway iSHARE-shaped PKI (NewPKI: root and issuing CA, RSA party
// certificates with the party ID in the subject serialNumber).
//
//	p := dsgotest.NewProvider(t)
//	c := p.Client(t, p.Consumer(t, "EU.EORI.NL000123456"))
//	recv, _ := dsgo.NewReceiver("EU.EORI.NL000123456", p.ReceiverAuth(t, "EU.EORI.NL000123456"))
//
// Helpers take a TB (satisfied by *testing.T) and fail the test on setup
// errors; everything is torn down with t.Cleanup.
package dsgotest
