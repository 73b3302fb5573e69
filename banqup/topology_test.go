package banqup_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/notifykit/notifykit"
	"github.com/notifykit/notifykit/banqup"
	"github.com/notifykit/notifykit/banqup/banquptest"
)

func amqpChannel(t *testing.T, url string) *amqp.Channel {
	t.Helper()
	conn, err := amqp.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func runOnce(t *testing.T, c *banqup.Consumer) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return c.Run(ctx)
}

func TestRunRejectsBadTopology(t *testing.T) {
	b := rabbit(t)
	nop := func(_ context.Context, _ *banqup.TransactionEvent) error { return nil }

	t.Run("passive and missing", func(t *testing.T) {
		c, err := banqup.NewConsumer(b.URL, uniqueQueue(t), banqup.WithPassiveTopology())
		if err != nil {
			t.Fatal(err)
		}
		c.OnTransaction(nop)
		if err := runOnce(t, c); !errors.Is(err, banqup.ErrTopology) {
			t.Fatalf("Run = %v, want ErrTopology", err)
		}
	})
	t.Run("queue declared with other arguments", func(t *testing.T) {
		queue := uniqueQueue(t)
		ch := amqpChannel(t, b.URL)
		if _, err := ch.QueueDeclare(queue, true, false, false, false, amqp.Table{"x-max-length": int32(5)}); err != nil {
			t.Fatal(err)
		}
		c, err := banqup.NewConsumer(b.URL, queue)
		if err != nil {
			t.Fatal(err)
		}
		c.OnTransaction(nop)
		if err := runOnce(t, c); !errors.Is(err, banqup.ErrTopology) {
			t.Fatalf("Run = %v, want ErrTopology", err)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		url := strings.Replace(b.URL, "guest:guest", "guest:wrong", 1)
		c, err := banqup.NewConsumer(url, uniqueQueue(t))
		if err != nil {
			t.Fatal(err)
		}
		c.OnTransaction(nop)
		err = runOnce(t, c)
		if !errors.Is(err, banqup.ErrAccessRefused) {
			t.Fatalf("Run = %v, want ErrAccessRefused", err)
		}
		if strings.Contains(err.Error(), "wrong") {
			t.Errorf("password leaked into error: %v", err)
		}
	})
	t.Run("no handler", func(t *testing.T) {
		c, err := banqup.NewConsumer(b.URL, uniqueQueue(t))
		if err != nil {
			t.Fatal(err)
		}
		if err := runOnce(t, c); !errors.Is(err, banqup.ErrNoHandler) {
			t.Fatalf("Run = %v, want ErrNoHandler", err)
		}
	})
}

// TestDeclaredTopologyMatchesMassTransit checks the layout with passive
// declarations carrying MassTransit's settings, and that declaring twice
// (a second consumer, a restart) is accepted.
func TestDeclaredTopologyMatchesMassTransit(t *testing.T) {
	b := rabbit(t)
	queue := uniqueQueue(t)
	before := runtime.NumGoroutine()
	for range 2 {
		watch, states := stateWatcher()
		c, err := banqup.NewConsumer(b.URL, queue, watch, banqup.WithHandler(notifykit.HandlerFunc(
			func(context.Context, notifykit.Event) error { return nil })))
		if err != nil {
			t.Fatal(err)
		}
		stop := run(t, c)
		waitState(t, states, banqup.StateConsuming)
		stop()
	}
	// Run leaves nothing running behind it.
	eventually(t, 5*time.Second, "goroutines of stopped consumers to exit", func() bool { return runtime.NumGoroutine() <= before })
	ch := amqpChannel(t, b.URL)
	for _, s := range banqup.Streams() {
		// MassTransit publishes to these with exactly these settings; a
		// mismatch would close the channel with 406.
		if err := ch.ExchangeDeclare(s.Exchange(), "fanout", true, false, false, false, nil); err != nil {
			t.Fatalf("%s: %v", s.Exchange(), err)
		}
	}
	for _, name := range []string{queue, queue + "_error", queue + "_skipped"} {
		if err := ch.ExchangeDeclarePassive(name, "fanout", true, false, false, false, nil); err != nil {
			t.Fatalf("exchange %s: %v", name, err)
		}
		if _, err := ch.QueueDeclarePassive(name, true, false, false, false, nil); err != nil {
			t.Fatalf("queue %s: %v", name, err)
		}
	}
	// Every stream reaches the queue through the bindings.
	p := publisher(t, b.URL)
	for _, s := range banqup.Streams() {
		if _, err := p.Publish(context.Background(), s, banquptest.Fixture(s)); err != nil {
			t.Fatal(err)
		}
	}
	if n := queueDepth(t, b.URL, queue); n != len(banqup.Streams()) {
		t.Errorf("queue has %d messages, want %d", n, len(banqup.Streams()))
	}
}

// TestUnroutableErrorCopyIsNotAcked binds nothing to the error exchange: the
// broker acks the copy but returns it, so the original must stay in the
// queue until the error queue is reachable.
func TestUnroutableErrorCopyIsNotAcked(t *testing.T) {
	b := rabbit(t)
	queue := uniqueQueue(t)
	ch := amqpChannel(t, b.URL)
	for _, name := range []string{queue, queue + "_error", queue + "_skipped"} {
		if err := ch.ExchangeDeclare(name, "fanout", true, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := ch.QueueDeclare(name, true, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := ch.QueueBind(queue, "", queue, false, nil); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var reported []error
	c, err := banqup.NewConsumer(b.URL, queue, banqup.WithPassiveTopology(),
		banqup.WithReconnectBackoff(func(int) time.Duration { return 300 * time.Millisecond }),
		banqup.WithOnError(func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() }))
	if err != nil {
		t.Fatal(err)
	}
	c.OnTransaction(func(context.Context, *banqup.TransactionEvent) error {
		return notifykit.Permanent(errors.New("always fails"))
	})
	run(t, c)
	pub, id, err := banquptest.NewPublishing(banqup.StreamTransaction, banquptest.Fixture(banqup.StreamTransaction))
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Publish(queue, "", false, false, pub); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "unroutable copy reported", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, err := range reported {
			if strings.Contains(err.Error(), "unroutable") {
				return true
			}
		}
		return false
	})
	// Now make the error queue reachable: the redelivered original lands there.
	if err := ch.QueueBind(queue+"_error", "", queue+"_error", false, nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "message in error queue", func() bool { return queueDepth(t, b.URL, queue+"_error") == 1 })
	got := drain(t, b.URL, queue+"_error")
	if len(got) != 1 || got[0].MessageId != id {
		t.Fatalf("error queue holds %v", got)
	}
	eventually(t, 10*time.Second, "original acked", func() bool { return queueDepth(t, b.URL, queue) == 0 })
}
