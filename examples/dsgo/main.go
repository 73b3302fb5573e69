// Command dsgo is the recommended production setup for a DSGO consumer:
// an HTTPS webhook that accepts only notifications signed by trusted
// providers (iSHARE client assertions), and a subscription made with our
// iSHARE credentials when none is active yet.
//
//	DSGO_PARTY_ID=EU.EORI.NL000123456 DSGO_KEY_FILE=me.key DSGO_CHAIN_FILE=me.pem \
//	DSGO_TRUST_ROOTS=ishare-roots.pem \
//	DSGO_PROVIDER_URL=https://provider.example/api DSGO_PROVIDER_ID=EU.EORI.NL000345678 \
//	DSGO_WEBHOOK_URL=https://me.example/dsgo DSGO_TLS_CERT=tls.pem DSGO_TLS_KEY=tls.key \
//	go run ./examples/dsgo
package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/notifykit/notifykit"
	"github.com/notifykit/notifykit/dsgo"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, log); err != nil {
		log.Error("dsgo stopped", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, log *slog.Logger) error {
	me := os.Getenv("DSGO_PARTY_ID")
	creds, err := dsgo.LoadCredentials(me, os.Getenv("DSGO_KEY_FILE"), os.Getenv("DSGO_CHAIN_FILE"))
	if err != nil {
		return err
	}
	rootsPEM, err := os.ReadFile(os.Getenv("DSGO_TRUST_ROOTS"))
	if err != nil {
		return err
	}
	roots, err := dsgo.CertPool(rootsPEM)
	if err != nil {
		return err
	}
	verifier, err := dsgo.NewAssertionVerifier(me, roots, dsgo.WithLogger(log))
	if err != nil {
		return err
	}
	recv, err := dsgo.NewReceiver(me, dsgo.SignedAssertion(verifier),
		dsgo.WithMiddleware(notifykit.Recover()), // dedupe is built in (24 h, in memory)
		dsgo.WithLogger(log),
		dsgo.WithOnError(func(err error) { log.Warn("dsgo webhook", "err", err) }))
	if err != nil {
		return err
	}
	recv.OnEvent(func(ctx context.Context, e *dsgo.Event) error {
		log.Info("dsgo event", "type", e.EventType, "subscription", e.Subject(), "data", e.DataText())
		return nil // an error answers 500 and the provider retries
	})

	mux := http.NewServeMux()
	mux.Handle("/dsgo", recv)
	srv := &http.Server{Addr: ":8443", Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.ListenAndServeTLS(os.Getenv("DSGO_TLS_CERT"), os.Getenv("DSGO_TLS_KEY")) }()

	client, err := dsgo.NewClient(os.Getenv("DSGO_PROVIDER_URL"),
		dsgo.WithCredentials(creds, os.Getenv("DSGO_PROVIDER_ID")), dsgo.WithLogger(log))
	if err != nil {
		return err
	}
	if err := ensureSubscription(ctx, client, os.Getenv("DSGO_WEBHOOK_URL"), log); err != nil {
		return err
	}

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// ensureSubscription subscribes webhook unless an active subscription for
// it exists. DSGO has no update: change a subscription by deleting it.
func ensureSubscription(ctx context.Context, c *dsgo.Client, webhook string, log *slog.Logger) error {
	list, err := c.Subscriptions.List(ctx)
	if err != nil {
		return err
	}
	for _, s := range list.Subscriptions {
		if s.Status == dsgo.StatusActive && s.WebhookURL == webhook && slices.Contains(s.EventTypes, "Modified") {
			log.Info("subscription active", "id", s.ID)
			return nil
		}
	}
	sub, err := c.Subscriptions.Create(ctx, dsgo.SubscriptionCreate{
		EventTypes: []string{"Created", "Modified", "Deleted"}, WebhookURL: webhook, Description: "myapp"})
	if err != nil {
		return err
	}
	log.Info("subscribed", "id", sub.ID)
	return nil
}
