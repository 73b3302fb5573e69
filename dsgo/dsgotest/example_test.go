package dsgotest_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/notifykit/notifykit/dsgo"
	"github.com/notifykit/notifykit/dsgo/dsgotest"
)

// How a user's test checks its webhook handler against a provider.
func TestWebhookAgainstProvider(t *testing.T) {
	p := dsgotest.NewProvider(t)
	const me = "EU.EORI.NL000123456"
	recv, err := dsgo.NewReceiver(me, p.ReceiverAuth(t, me))
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *dsgo.Event, 1)
	recv.OnEvent(func(_ context.Context, e *dsgo.Event) error { got <- e; return nil })
	hook := httptest.NewServer(recv)
	t.Cleanup(hook.Close)

	c := p.Client(t, p.Consumer(t, me))
	sub, err := c.Subscriptions.Create(context.Background(), dsgo.SubscriptionCreate{EventTypes: []string{"Modified"}, WebhookURL: hook.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Subscriptions.Test(context.Background(), sub.ID); err != nil {
		t.Fatal(err)
	}
	if e := <-got; e.EventType != "Test" || e.Subject() != sub.ID {
		t.Fatalf("%+v", e)
	}
}

func ExamplePKI() {
	pki, _ := dsgotest.NewPKI()
	creds, _ := pki.Party("EU.EORI.NL000123456")
	fmt.Println(creds.Chain[0].Subject.SerialNumber, len(creds.Chain))
	// Output: EU.EORI.NL000123456 2
}
