// Command kreditsmart is the recommended production setup for Europace
// KreditSmart KEX-PUSH: the MQTT subscriber on AWS IoT Core, with the signed
// webhook channel next to it when KREDITSMART_WEBHOOK_SECRET is set. Both
// deliver the same *kreditsmart.Notification to the same handler.
//
//	KREDITSMART_ENDPOINT=abc123-ats.iot.eu-central-1.amazonaws.com \
//	KREDITSMART_CLIENT_ID=my-client-id KREDITSMART_THING=my-client-id \
//	KREDITSMART_CERT_FILE=client.pem KREDITSMART_KEY_FILE=client.key \
//	KREDITSMART_TOPIC_POINTER=/state/reported/topic \
//	go run ./examples/kreditsmart
//
// Find the topic pointer once with
// "notifykit listen kreditsmart ... -fetch-shadow": Europace has not
// published the shadow's shape.
package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/notifykit/notifykit"
	"github.com/notifykit/notifykit/kreditsmart"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, log); err != nil {
		log.Error("kreditsmart stopped", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, log *slog.Logger) error {
	// A notification only says "re-read Vorgang X": re-reading twice is
	// harmless, so deduplicate redeliveries and coalesce bursts per Vorgang.
	mws := []notifykit.Middleware{notifykit.Recover(), notifykit.Dedupe(nil, time.Hour)}
	handle := func(ctx context.Context, n *kreditsmart.Notification) error {
		log.Info("re-read Vorgang", "vorgang", n.Vorgangsnummer, "teilantrag", n.Teilantragsnummer, "channel", n.Channel)
		return rereadVorgang(ctx, n.Vorgangsnummer)
	}
	onError := func(err error) {
		// A *HandlerError carries a notification MQTT could not redeliver:
		// reconcile that Vorgang through the export API.
		var he *kreditsmart.HandlerError
		if errors.As(err, &he) {
			log.Error("notification not processed; reconcile", "vorgang", he.Notification.Vorgangsnummer, "err", he.Err)
			return
		}
		log.Warn("kreditsmart", "err", err)
	}

	sub, err := kreditsmart.NewSubscriber(os.Getenv("KREDITSMART_ENDPOINT"), os.Getenv("KREDITSMART_CLIENT_ID"),
		kreditsmart.WithClientCertificateFiles(os.Getenv("KREDITSMART_CERT_FILE"), os.Getenv("KREDITSMART_KEY_FILE")),
		kreditsmart.WithThing(os.Getenv("KREDITSMART_THING")),
		kreditsmart.WithTopicPointer(os.Getenv("KREDITSMART_TOPIC_POINTER")),
		kreditsmart.WithWatchShadow(true, 15*time.Minute), // follow partner-tree moves
		kreditsmart.WithCoalesce(2*time.Second),
		kreditsmart.WithRetry(3, func(attempt int) time.Duration { return time.Duration(attempt) * time.Second }),
		kreditsmart.WithMiddleware(mws...),
		kreditsmart.WithLogger(log),
		kreditsmart.WithOnError(onError))
	if err != nil {
		return err
	}
	sub.OnNotification(handle)
	sub.OnGap(func(ctx context.Context, g *kreditsmart.Gap) {
		// Nothing is stored while the subscriber is offline.
		log.Warn("gap in the stream; reconcile", "topic", g.Topic, "from", g.Start, "to", g.End)
	})

	if secret := os.Getenv("KREDITSMART_WEBHOOK_SECRET"); secret != "" {
		wh, err := kreditsmart.NewWebhookHandler([][]byte{[]byte(secret)},
			kreditsmart.WithMiddleware(mws...), kreditsmart.WithLogger(log), kreditsmart.WithOnError(onError))
		if err != nil {
			return err
		}
		wh.OnNotification(handle)
		addr := os.Getenv("KREDITSMART_WEBHOOK_ADDR")
		if addr == "" {
			addr = ":8080"
		}
		srv := &http.Server{Addr: addr, Handler: wh, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("webhook server", "err", err)
			}
		}()
		defer func() {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
		}()
	}
	return sub.Run(ctx) // nil after Ctrl-C, once running handlers finished
}

// rereadVorgang stands for the call to the KEX Vorgang export API.
func rereadVorgang(ctx context.Context, vorgangsnummer string) error { return ctx.Err() }
