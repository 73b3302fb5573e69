package banqup_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"
	"os/signal"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/notifykit/notifykit"
	"github.com/notifykit/notifykit/banqup"
	"github.com/notifykit/notifykit/banqup/banquptest"
)

// Decode turns one AMQP delivery into a typed event.
func ExampleDecode() {
	pub, _, err := banquptest.NewPublishing(banqup.StreamTransaction, banquptest.Fixture(banqup.StreamTransaction))
	if err != nil {
		log.Fatal(err)
	}
	ev, err := banqup.Decode(amqp.Delivery{ContentType: pub.ContentType, MessageId: pub.MessageId, Body: pub.Body})
	if err != nil {
		log.Fatal(err)
	}
	tx := ev.(*banqup.TransactionEvent)
	d := tx.Message.Data
	fmt.Println(tx.Type(), tx.Subject())
	fmt.Println(d.Amount, d.Currency, d.Status, d.Recipient.Name)
	fmt.Println("account", tx.Message.Embedded.Account.ID, "booked", d.AccountingDate.Format("2006-01-02"))
	// Output:
	// banqup.transaction.created tx-0001
	// 1.15 PLN booked Jan Kowalski
	// account 1 booked 2021-01-05
}

// A consumer with typed handlers, ordering per account and the notifykit
// middlewares. Run blocks until the context ends.
func ExampleNewConsumer() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	c, err := banqup.NewConsumer("amqp://guest:guest@localhost:5672/", "myapp-banqup",
		banqup.WithLogger(slog.Default()),
		banqup.WithOnError(func(err error) { log.Println("banqup:", err) }),
		banqup.WithOrdering(),
		banqup.WithMiddleware(notifykit.Recover()),
	)
	if err != nil {
		log.Fatal(err)
	}
	c.OnTransaction(func(ctx context.Context, e *banqup.TransactionEvent) error {
		fmt.Println("transaction", e.Message.Data.ID, e.Message.Data.Amount)
		return nil
	})
	c.OnConsent(func(ctx context.Context, e *banqup.ConsentEvent) error {
		if e.Message.Meta.Operation == banqup.OperationDeleted {
			fmt.Println("consent deleted", e.Message.Data.ID)
		}
		return nil
	})
	if err := c.Run(ctx); err != nil {
		log.Fatal(err)
	}
}

// A generic handler receives every stream without a typed handler.
func ExampleWithHandler() {
	h := notifykit.HandlerFunc(func(ctx context.Context, e notifykit.Event) error {
		switch ev := e.(type) {
		case *banqup.AccountEvent:
			fmt.Println("account", ev.Message.Data.IBAN)
		case *banqup.AspspCallEvent:
			fmt.Println("bank call took", ev.Message.RequestDuration.Duration)
		}
		return nil
	})
	_, err := banqup.NewConsumer("amqp://localhost/", "myapp-banqup", banqup.WithHandler(h))
	fmt.Println(err)
	// Output: <nil>
}
