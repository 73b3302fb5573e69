package comnorm_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/notifykit/notifykit/comnorm"
	"github.com/notifykit/notifykit/comnorm/comnormtest"
)

// exampleServer starts an in-process server standing in for the hosted
// service.
func exampleServer() (*comnormtest.Server, func()) {
	srv, err := comnormtest.Start()
	if err != nil {
		log.Fatal(err)
	}
	return srv, srv.Close
}

// The whole flow: the receiver creates a queue and hands URL and secret to a
// sender; the sender posts; the receiver peeks and deletes.
func Example() {
	srv, stop := exampleServer()
	defer stop()
	ctx := context.Background()

	client, err := comnorm.NewClient(srv.PartnerKey, comnorm.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	q, err := client.CreateQueue(ctx)
	if err != nil {
		log.Fatal(err)
	}

	sender, _ := comnorm.NewSender()
	err = sender.Post(ctx, q.NotificationURL, q.NotificationSecret, map[string]any{"action": "Artikelwahl", "article": "4711"})
	if err != nil {
		log.Fatal(err)
	}

	msgs, err := client.Peek(ctx, q.ID, comnorm.PeekOptions{Count: 10, Timeout: 5 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range msgs {
		fmt.Println(string(m.Content))
		if err := client.DeleteMessage(ctx, q.ID, m.ID); err != nil {
			log.Fatal(err)
		}
	}
	// Output: {"action":"Artikelwahl","article":"4711"}
}

// A consumer handles each message and deletes it after the handler returned
// nil.
func ExampleConsumer() {
	srv, stop := exampleServer()
	defer stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	client, _ := comnorm.NewClient(srv.PartnerKey, comnorm.WithBaseURL(srv.URL))
	q, _ := client.CreateQueue(ctx)
	sender, _ := comnorm.NewSender()
	for i := 1; i <= 3; i++ {
		_ = sender.Post(ctx, q.NotificationURL, q.NotificationSecret, map[string]int{"n": i})
	}

	consumer, err := comnorm.NewConsumer(client, q.ID, comnorm.WithPollTimeout(time.Second))
	if err != nil {
		log.Fatal(err)
	}
	consumer.OnMessage(func(ctx context.Context, e *comnorm.Event) error {
		var v struct{ N int }
		if err := e.Decode(&v); err != nil {
			return err
		}
		fmt.Println("handled", v.N, e.Type())
		if v.N == 3 {
			cancel() // stop after the last one; Run drains and returns nil
		}
		return nil
	})
	if err := consumer.Run(ctx); err != nil {
		log.Fatal(err)
	}
	// Output:
	// handled 1 comnorm.message.received
	// handled 2 comnorm.message.received
	// handled 3 comnorm.message.received
}

// Post checks the body before sending anything.
func ExampleSender_Post() {
	sender, _ := comnorm.NewSender()
	ctx := context.Background()
	err := sender.Post(ctx, "https://notification.comnorm.com/api/queues/q/messages", "secret", []int{1, 2})
	fmt.Println(errors.Is(err, comnorm.ErrNotJSONObject))
	big := map[string]string{"text": string(make([]byte, comnorm.MaxMessageSize))}
	err = sender.Post(ctx, "https://notification.comnorm.com/api/queues/q/messages", "secret", big)
	fmt.Println(errors.Is(err, comnorm.ErrMessageTooLarge))
	// Output:
	// true
	// true
}
