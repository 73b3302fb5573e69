package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/notifykit/notifykit"
	"github.com/notifykit/notifykit/banqup"
	"github.com/notifykit/notifykit/banqup/banquptest"
	"github.com/notifykit/notifykit/internal/brokertest"
)

// banqupSource runs banqUP's side against a RabbitMQ (NOTIFYKIT_AMQP_URL or
// a private node of the installed rabbitmq-server): a publisher that sends
// MassTransit envelopes exactly as banqUP does, and the banqup.Consumer with
// its MassTransit topology (queue, type-exchange bindings, _error and
// _skipped). One consent is rejected by the handler for good and must land
// in the error queue; one transaction fails once and succeeds on retry.
func banqupSource() sandboxSource {
	return sandboxSource{name: "banqup", run: runBanqupSandbox}
}

const (
	banqupUnavailable = "install rabbitmq-server or set NOTIFYKIT_AMQP_URL"
	// banqupMinMessages is one full synchronisation cycle: the broker may
	// come up after a short --duration ended, and the sandbox must still
	// show banqUP working.
	banqupMinMessages = 8
	// unknownBank is the swift code the sandbox handler rejects.
	unknownBank = "XXXXPLPW"
)

func runBanqupSandbox(ctx context.Context, env *sandboxEnv) error {
	startCtx, cancel := context.WithTimeout(env.interrupted, 90*time.Second)
	broker, err := brokertest.StartRabbitMQ(startCtx)
	cancel()
	if errors.Is(err, brokertest.ErrNoBroker) {
		return unavailableError{banqupUnavailable}
	}
	if err != nil && env.interrupted.Err() != nil {
		return unavailableError{"interrupted while RabbitMQ was starting"}
	}
	if err != nil {
		return fmt.Errorf("starting RabbitMQ: %w", err)
	}
	defer broker.Close()

	queue := "notifykit-sandbox-" + randomHex(4)
	consuming := make(chan struct{})
	var consumingOnce sync.Once
	consumer, err := banqup.NewConsumer(broker.URL, queue,
		banqup.WithOrdering(),
		banqup.WithRetry(3, func(int) time.Duration { return 100 * time.Millisecond }),
		banqup.WithShutdownTimeout(5*time.Second),
		banqup.WithLogger(env.log),
		banqup.WithOnStateChange(func(s banqup.State, _ error) {
			if s == banqup.StateConsuming {
				consumingOnce.Do(func() { close(consuming) })
			}
		}),
		banqup.WithOnError(func(err error) {
			// The SDK reports a message it moved to <queue>_error once the
			// broker confirmed the copy: that is where the operator sees it.
			var he *banqup.HandlerError
			if errors.As(err, &he) {
				env.stats.deadLettered(he.MessageID)
			}
			env.log.Warn("banqup consumer", "err", err)
		}),
	)
	if err != nil {
		return err
	}
	registerBanqupHandlers(consumer, env)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	runErr := make(chan error, 1)
	go func() { runErr <- consumer.Run(runCtx) }()
	// Messages published before the queue is bound to banqUP's type
	// exchanges are dropped by RabbitMQ, so traffic starts once consuming.
	select {
	case <-consuming:
	case err := <-runErr:
		return fmt.Errorf("consumer: %w", err)
	case <-time.After(30 * time.Second):
		return errors.New("consumer did not start within 30 s")
	}

	pub, err := banquptest.NewPublisher(ctx, broker.URL)
	if err != nil {
		return err
	}
	defer pub.Close()
	t := time.NewTicker(env.interval())
	defer t.Stop()
	sent := 0
	for i := 0; ; i++ {
		if env.traffic.Err() != nil && (sent >= banqupMinMessages || env.interrupted.Err() != nil) {
			break
		}
		select {
		case <-t.C:
		case <-env.interrupted.Done():
			continue
		}
		stream, payload := banqupTraffic(i)
		msg, id, err := banquptest.NewPublishing(stream, payload)
		if err != nil {
			return err
		}
		// Recorded before publishing: the handler may run before the
		// broker's confirm reaches the publisher.
		env.stats.sent(id)
		if err := pub.PublishRaw(ctx, stream.Exchange(), "", msg); err != nil {
			return fmt.Errorf("publishing as banqUP: %w", err)
		}
		sent++
	}

	drainCtx, cancel := context.WithTimeout(ctx, sandboxDrainTimeout)
	env.awaitSettled(drainCtx)
	cancel()
	stop()
	if err := <-runErr; err != nil {
		return fmt.Errorf("consumer: %w", err)
	}
	return checkErrorQueue(broker.URL, queue, env)
}

func registerBanqupHandlers(c *banqup.Consumer, env *sandboxEnv) {
	c.OnAccount(func(_ context.Context, e *banqup.AccountEvent) error {
		env.handled(e, nil)
		return nil
	})
	c.OnTransaction(func(_ context.Context, e *banqup.TransactionEvent) error {
		var err error
		// The first transaction of every other account fails once, as a
		// ledger timeout would; the consumer retries it in process.
		if strings.HasSuffix(e.Message.Data.ID, "-1") && firstTry(env, e.ID()) && e.Message.Embedded.Account.ID%2 == 0 {
			err = errors.New("ledger timeout (sandbox failure, retried)")
		}
		env.handled(e, err)
		return err
	})
	c.OnSessionFinished(func(_ context.Context, e *banqup.SessionFinishedEvent) error {
		env.handled(e, nil)
		return nil
	})
	c.OnConsent(func(_ context.Context, e *banqup.ConsentEvent) error {
		var err error
		if e.Message.Data.BankSwiftCode == unknownBank {
			// Retrying cannot fix this: Permanent sends the message
			// straight to the error queue, with MassTransit's fault headers.
			err = notifykit.Permanent(fmt.Errorf("consent for unknown bank %s (sandbox failure, to the error queue)", unknownBank))
		}
		env.handled(e, err)
		return err
	})
}

// banqupTraffic returns message i of banqUP's synchronisation cycle: an
// account, three transactions, the finished session, a consent confirmed
// and later invalidated. The very first cycle's consent comes from a bank
// the application does not know, which the handler rejects.
func banqupTraffic(i int) (banqup.Stream, any) {
	cycle, step := i/banqupMinMessages, i%banqupMinMessages
	account := int64(1000 + cycle)
	now := time.Now().UTC().Format("2006-01-02T15:04:05.0000000Z") // .NET's seven digits
	tx := func(n int) string { return fmt.Sprintf("tx-%d-%d", account, n) }
	switch step {
	case 0:
		return banqup.StreamAccount, fixture(banqup.StreamAccount, func(m map[string]any) {
			m["data"].(map[string]any)["id"] = account
			m["meta"].(map[string]any)["timestamp"] = now
		})
	case 1, 2, 3:
		return banqup.StreamTransaction, fixture(banqup.StreamTransaction, func(m map[string]any) {
			d := m["data"].(map[string]any)
			d["id"] = tx(step)
			d["amount"] = fmt.Sprintf("%d.%02d", 10*step+cycle, 7*step)
			m["embedded"].(map[string]any)["account"].(map[string]any)["id"] = account
			m["meta"].(map[string]any)["timestamp"] = now
		})
	case 4:
		return banqup.StreamSessionFinished, fixture(banqup.StreamSessionFinished, func(m map[string]any) {
			m["data"].(map[string]any)["id"] = tx(3)
			m["embedded"].(map[string]any)["account"].(map[string]any)["id"] = account
			m["meta"].(map[string]any)["timestamp"] = now
		})
	default:
		return banqup.StreamConsent, fixture(banqup.StreamConsent, func(m map[string]any) {
			d := m["data"].(map[string]any)
			d["id"] = fmt.Sprintf("consent-%d", account)
			meta := m["meta"].(map[string]any)
			meta["timestamp"] = now
			switch step {
			case 5:
				d["status"], d["previousStatus"], d["invalidationInfo"] = "confirmed", nil, nil
				meta["operation"] = "created"
			case 6:
				meta["operation"] = "updated" // confirmed → invalid, as in the fixture
			case 7:
				meta["operation"] = "deleted"
				if cycle == 0 {
					d["id"], d["bankSwiftCode"] = "consent-unknown-bank", unknownBank
				}
			}
		})
	}
}

// fixture returns banquptest's example payload of stream s changed by edit.
func fixture(s banqup.Stream, edit func(map[string]any)) json.RawMessage {
	var m map[string]any
	if err := json.Unmarshal(banquptest.Fixture(s), &m); err != nil {
		panic(err) // the fixtures are constants
	}
	edit(m)
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// checkErrorQueue compares <queue>_error on the broker with what the SDK
// reported as dead-lettered, then removes the sandbox's queues.
func checkErrorQueue(url, queue string, env *sandboxEnv) error {
	conn, err := amqp.Dial(url)
	if err != nil {
		return fmt.Errorf("checking the error queue: %w", err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("checking the error queue: %w", err)
	}
	defer ch.Close()
	q, err := ch.QueueDeclarePassive(queue+"_error", true, false, false, false, nil)
	if err != nil {
		return fmt.Errorf("checking the error queue: %w", err)
	}
	env.stats.mu.Lock()
	reported := len(env.stats.deadLetter)
	env.stats.mu.Unlock()
	if q.Messages < reported {
		return fmt.Errorf("error queue holds %d messages, the SDK reported %d", q.Messages, reported)
	}
	env.log.Info("banqup: error queue checked", "queue", q.Name, "messages", q.Messages)
	for _, name := range []string{queue, queue + "_error", queue + "_skipped"} {
		_, _ = ch.QueueDelete(name, false, false, false)
		_ = ch.ExchangeDelete(name, false, false)
	}
	return nil
}
