package kreditsmart_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/notifykit/notifykit/kreditsmart"
)

// The webhook channel: verify, decode, handle, answer.
func ExampleWebhookHandler() {
	secret := []byte("a shared secret of at least 32 bytes!")
	wh, err := kreditsmart.NewWebhookHandler([][]byte{secret})
	if err != nil {
		log.Fatal(err)
	}
	wh.OnNotification(func(_ context.Context, n *kreditsmart.Notification) error {
		fmt.Println("re-read", n.Vorgangsnummer, "Teilantrag", n.Teilantragsnummer, "via", n.Channel)
		return nil
	})
	srv := httptest.NewServer(wh)
	defer srv.Close()

	body := []byte(`{"vorgangsnummer":"VN1245","teilantragsnummer":"VN1245/1/1"}`)
	req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(kreditsmart.SignatureHeader, kreditsmart.Sign(secret, body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	res.Body.Close()
	fmt.Println(res.StatusCode)
	// Output:
	// re-read VN1245 Teilantrag VN1245/1/1 via webhook
	// 200
}

func ExampleDecode() {
	n, err := kreditsmart.Decode([]byte(`{
		"vorgangsnummer": "VN1245",
		"kundenbetreuerPartnerbaum": "ECHTGESCHAEFT/PARTNER1/PARTNER2/PARTNER3",
		"letztesAenderungsDatum": "2019-01-02",
		"quellsystem": "KREDITSMART"}`))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n.Subject(), n.Type(), n.Time().Format(time.DateOnly))
	fmt.Println(n.KundenbetreuerPartnerbaum.Root(), n.KundenbetreuerPartnerbaum.Leaf())
	// Output:
	// VN1245 kreditsmart.vorgang.changed 2019-01-02
	// ECHTGESCHAEFT PARTNER3
}

func ExamplePartnerbaum_Contains() {
	mine := kreditsmart.Partnerbaum("ECHTGESCHAEFT/ABC12")
	fmt.Println(mine.Contains("ECHTGESCHAEFT/ABC12/DEF34"), mine.Contains("ECHTGESCHAEFT/ABC123"))
	// Output: true false
}

// The MQTT channel against Europace's AWS IoT endpoint (not run: it needs
// Europace's certificates).
func ExampleSubscriber() {
	sub, err := kreditsmart.NewSubscriber("abc123-ats.iot.eu-central-1.amazonaws.com", "my-client-id",
		kreditsmart.WithClientCertificateFiles("client.pem", "client.key"),
		kreditsmart.WithThing("my-client-id"),
		kreditsmart.WithTopicPointer("/state/reported/topic"),
		kreditsmart.WithWatchShadow(true, 15*time.Minute),
		kreditsmart.WithCoalesce(2*time.Second),
		kreditsmart.WithOnError(func(err error) { log.Print(err) }))
	if err != nil {
		log.Fatal(err)
	}
	sub.OnNotification(func(ctx context.Context, n *kreditsmart.Notification) error {
		log.Printf("re-read %s (Kundenbetreuer %s)", n.Vorgangsnummer, n.KundenbetreuerPartnerbaum)
		return nil
	})
	sub.OnGap(func(ctx context.Context, g *kreditsmart.Gap) {
		log.Printf("reconcile %s between %v and %v", g.Topic, g.Start, g.End)
	})
	if err := sub.Run(context.Background()); err != nil {
		log.Fatal(err)
	}
}
