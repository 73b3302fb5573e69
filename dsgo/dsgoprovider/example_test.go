package dsgoprovider_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"time"

	"github.com/notifykit/notifykit/dsgo"
	"github.com/notifykit/notifykit/dsgo/dsgoprovider"
	"github.com/notifykit/notifykit/dsgo/dsgotest"
)

// A provider publishing an event to a consumer that subscribed through the
// API; the consumer's webhook checks the provider's signed assertion.
func Example() {
	pki, err := dsgotest.NewPKI()
	if err != nil {
		log.Fatal(err)
	}
	providerCreds, _ := pki.Party("EU.EORI.NL000345678")
	consumerCreds, _ := pki.Party("EU.EORI.NL000123456")

	// Consumer webhook.
	v, _ := dsgo.NewAssertionVerifier("EU.EORI.NL000123456", pki.Pool())
	recv, _ := dsgo.NewReceiver("EU.EORI.NL000123456", dsgo.SignedAssertion(v))
	got := make(chan string, 1)
	recv.OnEvent(func(_ context.Context, e *dsgo.Event) error {
		got <- e.EventType + ": " + e.DataText()
		return nil
	})
	hook := httptest.NewServer(recv)
	defer hook.Close()

	// Provider.
	srv, err := dsgoprovider.New("EU.EORI.NL000345678", pki.Pool(), dsgoprovider.NewMemoryStore(),
		dsgoprovider.WithEventTypes("Modified", "Deleted"),
		dsgoprovider.WithWebhookAuth(dsgoprovider.SignedAssertionAuth(providerCreds)),
		dsgoprovider.WithAllowPrivateTargets(), dsgoprovider.WithAllowHTTPWebhooks()) // httptest is loopback
	if err != nil {
		log.Fatal(err)
	}
	api := httptest.NewServer(srv)
	defer api.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	// The consumer subscribes, the provider publishes.
	c, _ := dsgo.NewClient(api.URL, dsgo.WithCredentials(consumerCreds, "EU.EORI.NL000345678"))
	if _, err := c.Subscriptions.Create(ctx, dsgo.SubscriptionCreate{EventTypes: []string{"Modified"}, WebhookURL: hook.URL}); err != nil {
		log.Fatal(err)
	}
	if _, err := srv.Publish(ctx, dsgo.Event{EventType: "Modified", Data: []byte(`"record 7 changed"`)}); err != nil {
		log.Fatal(err)
	}
	select {
	case s := <-got:
		fmt.Println(s)
	case <-time.After(10 * time.Second):
		fmt.Println("timeout")
	}
	// Output: Modified: record 7 changed
}
