// Command comnorm is the recommended production setup for a ComNorm
// receiver: one consumer per queue, handled messages deleted, failing ones
// retried with backoff and, after five attempts, written to a dead-letter
// directory before they leave the queue.
//
//	COMNORM_PARTNER_KEY=... COMNORM_QUEUE=... go run ./examples/comnorm
//
// Without COMNORM_QUEUE it creates a queue and prints what to give the
// shops (notification URL and secret) once. COMNORM_BASE_URL points it at a
// self-hosted server ("notifykit comnorm serve").
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/notifykit/notifykit"
	"github.com/notifykit/notifykit/comnorm"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, log); err != nil {
		log.Error("comnorm stopped", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, log *slog.Logger) error {
	key := os.Getenv("COMNORM_PARTNER_KEY")
	if key == "" {
		return errors.New("set COMNORM_PARTNER_KEY")
	}
	opts := []comnorm.Option{comnorm.WithLogger(log)}
	if u := os.Getenv("COMNORM_BASE_URL"); u != "" {
		opts = append(opts, comnorm.WithBaseURL(u))
	}
	client, err := comnorm.NewClient(key, opts...)
	if err != nil {
		return err
	}
	queue := os.Getenv("COMNORM_QUEUE")
	if queue == "" {
		q, err := client.CreateQueue(ctx)
		if err != nil {
			return err
		}
		fmt.Printf("queue %s created\nnotification URL: %s\nnotification secret: %s\n", q.ID, q.NotificationURL, q.NotificationSecret)
		queue = q.ID
	}
	deadDir := os.Getenv("COMNORM_DEAD_LETTER_DIR")
	if deadDir == "" {
		deadDir = "comnorm-dead-letters"
	}
	if err := os.MkdirAll(deadDir, 0o700); err != nil {
		return err
	}
	c, err := comnorm.NewConsumer(client, queue,
		comnorm.WithRetry(5, nil), // jittered exponential backoff per message
		comnorm.WithDeadLetter(func(ctx context.Context, e *comnorm.Event, lastErr error) error {
			// Deleting is irreversible: keep the message somewhere first.
			return os.WriteFile(filepath.Join(deadDir, e.ID()+".json"), e.Message.Content, 0o600)
		}),
		comnorm.WithMiddleware(notifykit.Recover(), notifykit.Dedupe(nil, 24*time.Hour)),
		comnorm.WithLogger(log),
		comnorm.WithOnError(func(err error) { log.Warn("comnorm", "err", err) }))
	if err != nil {
		return err
	}
	c.OnMessage(func(ctx context.Context, e *comnorm.Event) error {
		var order struct {
			Action  string `json:"action"`
			Article string `json:"article"`
		}
		if err := e.Decode(&order); err != nil {
			return notifykit.Permanent(err) // not ours to fix: dead-letter at once
		}
		log.Info("shop message", "id", e.ID(), "action", order.Action, "article", order.Article)
		return nil
	})
	return c.Run(ctx) // nil after Ctrl-C, once pending deletes are flushed
}
