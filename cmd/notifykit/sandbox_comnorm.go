package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/notifykit/notifykit/comnorm"
	"github.com/notifykit/notifykit/comnorm/comnormserver"
)

// comnormSource runs a self-hosted ComNorm server with its durable bbolt
// store, a shop that posts order messages into a receiver's queue with the
// notification secret, and the comnorm.Consumer long-polling that queue.
func comnormSource() sandboxSource {
	return sandboxSource{name: "comnorm", run: runComnormSandbox}
}

// shopMessage is what the sandbox's online shop posts.
type shopMessage struct {
	OrderID string `json:"orderId"`
	Event   string `json:"event"`
	Shop    string `json:"shop"`
	Amount  string `json:"amount"`
	At      string `json:"at"`
}

var shopEvents = []string{"order.created", "order.paid", "order.shipped", "order.delivered"}

func runComnormSandbox(ctx context.Context, env *sandboxEnv) error {
	store, err := comnormserver.OpenBoltStore(filepath.Join(env.tempDir, "comnorm.db"))
	if err != nil {
		return err
	}
	defer store.Close()
	partnerKey := randomHex(16)
	auth, err := comnormserver.NewStaticKeys(map[string]string{"sandbox-receiver": partnerKey})
	if err != nil {
		return err
	}
	srv, err := comnormserver.New(store, auth, comnormserver.WithLogger(env.log))
	if err != nil {
		return err
	}
	web, err := serveLocal(srv)
	if err != nil {
		return err
	}
	defer func() {
		srv.Close() // answer waiting long polls now instead of at their timeout
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		web.shutdown(sctx)
	}()

	client, err := comnorm.NewClient(partnerKey, comnorm.WithBaseURL(web.URL+"/api"), comnorm.WithLogger(env.log))
	if err != nil {
		return err
	}
	q, err := client.CreateQueue(ctx)
	if err != nil {
		return err
	}

	consumer, err := comnorm.NewConsumer(client, q.ID,
		comnorm.WithPollTimeout(5*time.Second),
		comnorm.WithRetry(5, func(int) time.Duration { return 100 * time.Millisecond }),
		comnorm.WithDeadLetter(func(_ context.Context, e *comnorm.Event, lastErr error) error {
			var m shopMessage
			if err := e.Decode(&m); err == nil {
				env.stats.deadLettered(m.OrderID + "/" + m.Event)
			}
			env.log.Warn("comnorm: message dead-lettered", "id", e.ID(), "err", lastErr)
			return nil
		}),
		comnorm.WithShutdownTimeout(5*time.Second),
		comnorm.WithLogger(env.log),
		comnorm.WithOnError(func(err error) { env.log.Debug("comnorm consumer", "err", err) }),
	)
	if err != nil {
		return err
	}
	consumer.OnMessage(func(ctx context.Context, e *comnorm.Event) error {
		var m shopMessage
		if err := e.Decode(&m); err != nil {
			env.out.print(e, err)
			return err
		}
		key := m.OrderID + "/" + m.Event
		var herr error
		// Every fifth order's shipment fails on its first attempt, as a
		// handler whose database hiccuped would: the message stays in the
		// queue and comes back after the consumer's backoff.
		if m.Event == "order.shipped" && e.Attempt == 1 && (strings.HasSuffix(m.OrderID, "0") || strings.HasSuffix(m.OrderID, "5")) {
			herr = errors.New("warehouse system busy (sandbox failure, retried)")
		}
		env.handledAs(key, e, herr)
		return herr
	})

	runCtx, stopConsumer := context.WithCancel(ctx)
	defer stopConsumer()
	runErr := make(chan error, 1)
	go func() { runErr <- consumer.Run(runCtx) }()

	sender, err := comnorm.NewSender(comnorm.WithLogger(env.log))
	if err != nil {
		return err
	}
	t := time.NewTicker(env.interval())
	defer t.Stop()
	for i := 0; env.tick(t); i++ {
		m := shopMessage{
			OrderID: fmt.Sprintf("A-%05d", 10000+i/len(shopEvents)),
			Event:   shopEvents[i%len(shopEvents)],
			Shop:    "sandbox-shop",
			Amount:  fmt.Sprintf("%d.%02d", 10+i%90, i%100),
			At:      time.Now().UTC().Format(time.RFC3339Nano),
		}
		// Recorded before posting: the long poll may hand the message to
		// the handler before the post's answer arrives.
		env.stats.sent(m.OrderID + "/" + m.Event)
		if err := sender.Post(ctx, q.NotificationURL, q.NotificationSecret, m); err != nil {
			return fmt.Errorf("posting as the shop: %w", err)
		}
	}

	drainCtx, cancel := context.WithTimeout(ctx, sandboxDrainTimeout)
	env.awaitSettled(drainCtx)
	cancel()
	stopConsumer()
	if err := <-runErr; err != nil {
		return fmt.Errorf("consumer: %w", err)
	}
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return client.DeleteQueue(dctx, q.ID)
}

// randomHex returns n random bytes in hex, for throwaway keys and names.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}
