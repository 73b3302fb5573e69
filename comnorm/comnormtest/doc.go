// Package comnormtest runs a real ComNorm-compatible server (comnormserver
// with its in-memory store) inside a test, so code using package comnorm can
// be tested end to end without the hosted service.
//
//	srv := comnormtest.NewServer(t)
//	c, _ := comnorm.NewClient(srv.PartnerKey, comnorm.WithBaseURL(srv.URL))
//
// srv.Store gives direct access to the queues for assertions.
package comnormtest
