package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/notifykit/notifykit/dsgo"
	"github.com/notifykit/notifykit/dsgo/dsgoprovider"
	"github.com/notifykit/notifykit/dsgo/dsgotest"
)

// dsgoSource runs a DSGO provider (dsgoprovider with a durable bbolt outbox
// and a throwaway iSHARE PKI), a consumer that subscribes through the
// iSHARE-authenticated /subscriptions API, and the consumer's webhook
// receiver that accepts only notifications signed by the provider.
func dsgoSource() sandboxSource {
	return sandboxSource{name: "dsgo", run: runDSGOSandbox}
}

const (
	sandboxProviderID = "EU.EORI.NL000000001"
	sandboxConsumerID = "EU.EORI.NL000000002"
)

func runDSGOSandbox(ctx context.Context, env *sandboxEnv) error {
	pki, err := dsgotest.NewPKI()
	if err != nil {
		return err
	}
	providerCreds, err := pki.Party(sandboxProviderID)
	if err != nil {
		return err
	}
	consumerCreds, err := pki.Party(sandboxConsumerID)
	if err != nil {
		return err
	}

	// The consumer's webhook: it trusts the PKI's root and accepts a fresh
	// client assertion from the provider as the bearer token.
	verifier, err := dsgo.NewAssertionVerifier(sandboxConsumerID, pki.Pool())
	if err != nil {
		return err
	}
	recv, err := dsgo.NewReceiver(sandboxConsumerID, dsgo.SignedAssertion(verifier),
		dsgo.WithLogger(env.log),
		dsgo.WithOnError(func(err error) { env.log.Debug("dsgo receiver", "err", err) }))
	if err != nil {
		return err
	}
	recv.OnEvent(func(_ context.Context, e *dsgo.Event) error {
		var err error
		// Every seventh change fails on its first delivery: the webhook
		// answers 500 and the provider's dispatcher delivers it again.
		if n, _ := strconv.Atoi(strings.TrimPrefix(e.EventID, "ev-")); e.EventType == "Modified" && n%7 == 3 && firstTry(env, e.EventID) {
			err = fmt.Errorf("object store locked (sandbox failure, retried)")
		}
		// Counted by event id: the provider assigns the notification id
		// (part of e.ID()) only when Publish queues it, and delivery may
		// beat Publish's return. One subscription gets every event once.
		env.handledAs(e.EventID, e, err)
		return err
	})
	hook, err := serveLocal(recv)
	if err != nil {
		return err
	}
	defer shutdownQuickly(ctx, hook)

	store, err := dsgoprovider.OpenBoltStore(filepath.Join(env.tempDir, "dsgo-provider.db"))
	if err != nil {
		return err
	}
	defer store.Close()
	prov, err := dsgoprovider.New(sandboxProviderID, pki.Pool(), store,
		dsgoprovider.WithWebhookAuth(dsgoprovider.SignedAssertionAuth(providerCreds)),
		dsgoprovider.WithEventTypes("Created", "Modified", "Deleted"),
		// The sandbox's webhook is plain HTTP on loopback; a real provider
		// refuses both (TLS required, no private targets).
		dsgoprovider.WithAllowHTTPWebhooks(), dsgoprovider.WithAllowPrivateTargets(),
		dsgoprovider.WithRetry(10, func(attempt int) time.Duration { return time.Duration(attempt) * 100 * time.Millisecond }),
		dsgoprovider.WithPollInterval(100*time.Millisecond),
		dsgoprovider.WithLogger(env.log),
		dsgoprovider.WithOnError(func(err error) { env.log.Warn("dsgo provider", "err", err) }))
	if err != nil {
		return err
	}
	api, err := serveLocal(prov)
	if err != nil {
		return err
	}
	defer shutdownQuickly(ctx, api)
	dispatchCtx, stopDispatch := context.WithCancel(ctx)
	defer stopDispatch()
	dispatched := make(chan error, 1)
	go func() { dispatched <- prov.Run(dispatchCtx) }()

	// The consumer subscribes with its iSHARE credentials: the client fetches
	// a token from the provider's /connect/token with a signed assertion.
	client, err := dsgo.NewClient(api.URL, dsgo.WithCredentials(consumerCreds, sandboxProviderID), dsgo.WithLogger(env.log))
	if err != nil {
		return err
	}
	sub, err := client.Subscriptions.Create(ctx, dsgo.SubscriptionCreate{
		EventTypes:  []string{"Created", "Modified", "Deleted"},
		WebhookURL:  hook.URL + "/dsgo/notifications",
		Description: "notifykit sandbox: building permits",
	})
	if err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}

	t := time.NewTicker(env.interval())
	defer t.Stop()
	types := []string{"Created", "Modified", "Modified", "Deleted"}
	for i := 0; env.tick(t); i++ {
		ev := dsgo.Event{
			EventID:     fmt.Sprintf("ev-%d", i),
			EventType:   types[i%len(types)],
			Description: "building permit record",
			Data:        json.RawMessage(strconv.Quote(fmt.Sprintf("permit/%d", 4100+i/len(types)))),
		}
		env.stats.sent(ev.EventID)
		if _, err := prov.Publish(ctx, ev); err != nil {
			return fmt.Errorf("publishing as the provider: %w", err)
		}
	}

	drainCtx, cancel := context.WithTimeout(ctx, sandboxDrainTimeout)
	env.awaitSettled(drainCtx)
	cancel()

	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := client.Subscriptions.Delete(dctx, sub.ID); err != nil {
		return fmt.Errorf("unsubscribe: %w", err)
	}
	stopDispatch()
	return <-dispatched
}

// firstTry reports whether id has not been attempted before.
func firstTry(env *sandboxEnv, id string) bool {
	env.stats.mu.Lock()
	defer env.stats.mu.Unlock()
	return env.stats.attempts[id] == 0
}

func shutdownQuickly(ctx context.Context, s *localServer) {
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s.shutdown(sctx)
}
