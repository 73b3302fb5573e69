package dsgo_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/notifykit/notifykit/dsgo"
	"github.com/notifykit/notifykit/dsgo/dsgotest"
)

// A consumer's webhook: authenticate the provider, validate, dedupe, handle.
func ExampleReceiver() {
	r, err := dsgo.NewReceiver("EU.EORI.NL000123456", dsgo.StaticBearer("webhook-secret"))
	if err != nil {
		log.Fatal(err)
	}
	r.OnEvent(func(ctx context.Context, e *dsgo.Event) error {
		fmt.Println(e.Type(), e.Subject(), e.DataText())
		return nil
	})

	body := []byte(`{"id":"not_123","resource_type":"notification","date":"1663752217",
	 "consumer_id":"EU.EORI.NL000123456","provider_id":"EU.EORI.NL000345678","subscription_id":"sub_123",
	 "event":[{"id":"eve_123","resource_type":"event","event_type":"Modified","date":"1663752228",
	   "event_data":"Data record xyz has been modified by zyx"}]}`)
	for range 2 { // the second delivery is a duplicate: 200, handler not called
		req := httptest.NewRequest(http.MethodPost, "/dsgo", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer webhook-secret")
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		fmt.Println(w.Code)
	}
	// Output:
	// dsgo.event.modified sub_123 Data record xyz has been modified by zyx
	// 200
	// 200
}

// Both spellings decode to the same notification.
func ExampleDecodeNotification() {
	oas := []byte(`{"id":"not_1","class":"object","dateTime":1663752217,"consumer_id":"C","provider_id":"P",
	 "subscriptionId":"sub_1","event":{"id":"eve_1","class":"event","event_type":"Deleted","dateTime":"2022-09-21T09:23:48Z"}}`)
	n, err := dsgo.DecodeNotification(oas)
	if err != nil {
		log.Fatal(err)
	}
	wiki, _ := n.Encode(dsgo.DialectWiki)
	fmt.Println(n.SubscriptionID, n.Events[0].EventType, n.Date.Unix())
	fmt.Println(string(wiki))
	// Output:
	// sub_1 Deleted 1663752217
	// {"id":"not_1","resource_type":"object","date":"1663752217","consumer_id":"C","provider_id":"P","subscription_id":"sub_1","event":[{"id":"eve_1","resource_type":"event","event_type":"Deleted","date":"1663752228"}]}
}

// Managing subscriptions with iSHARE credentials loaded from PEM files.
// dsgotest stands in for the provider and its PKI.
func ExampleClient() {
	t := &exampleT{}
	defer t.done()
	p := dsgotest.NewProvider(t) // in-process provider
	dir, _ := os.MkdirTemp("", "dsgo-example")
	defer os.RemoveAll(dir)
	keyFile, chainFile, _ := dsgotest.WriteCredentials(dir, "me", p.Consumer(t, "EU.EORI.NL000123456"))

	creds, err := dsgo.LoadCredentials("EU.EORI.NL000123456", keyFile, chainFile)
	if err != nil {
		log.Fatal(err)
	}
	c, err := dsgo.NewClient(p.URL, dsgo.WithCredentials(creds, p.ID))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	sub, err := c.Subscriptions.Create(ctx, dsgo.SubscriptionCreate{
		EventTypes: []string{"Modified", "Deleted"}, WebhookURL: "https://consumer.example/dsgo"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sub.Status, sub.EventTypes)
	if err := c.Subscriptions.Delete(ctx, sub.ID); err != nil {
		log.Fatal(err)
	}
	list, _ := c.Subscriptions.List(ctx)
	fmt.Println(list.Count, list.Subscriptions[0].Status)
	// Output:
	// active [Modified Deleted]
	// 1 inactive
}

// exampleT adapts dsgotest's TB to a program: Fatal exits, cleanups run at
// done.
type exampleT struct{ cleanups []func() }

func (*exampleT) Helper()            {}
func (*exampleT) Fatal(args ...any)  { log.Fatal(args...) }
func (t *exampleT) Cleanup(f func()) { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) done() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}
