//go:build ignore

// The runner (internal/bench, branch infra) has not landed yet: this file is
// kept out of the build until it does; then the build tag goes and the
// scenario registers through the runner's API.

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/notifykit/notifykit/banqup"
	"github.com/notifykit/notifykit/banqup/banquptest"
)

// banqup-consume: 50,000 transaction messages published by banquptest into
// a fresh queue, then consumed by our Consumer (defaults) or by a
// hand-written amqp091-go loop with the same prefetch, manual acks and the
// same decoding. Only the consumption is timed; the queue is filled first.
const (
	banqupMessages = 50000
)

type banqupConsume struct {
	url string
	seq atomic.Int64
}

// fill declares what the consumer declares for the transaction stream and
// publishes the messages.
func (b *banqupConsume) fill(ctx context.Context) (string, error) {
	queue := fmt.Sprintf("bench-banqup-%d-%d", os.Getpid(), b.seq.Add(1))
	conn, err := amqp.Dial(b.url)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return "", err
	}
	ex := banqup.StreamTransaction.Exchange()
	if err := ch.ExchangeDeclare(ex, amqp.ExchangeFanout, true, false, false, false, nil); err != nil {
		return "", err
	}
	if _, err := ch.QueueDeclare(queue, true, false, false, false, nil); err != nil {
		return "", err
	}
	if err := ch.QueueBind(queue, "", ex, false, nil); err != nil {
		return "", err
	}
	// Other queues bound to the exchange (earlier runs) must not receive
	// these copies: unbind them as soon as they are consumed (see cleanup).
	p, err := banquptest.NewPublisher(ctx, b.url)
	if err != nil {
		return "", err
	}
	defer p.Close()
	payloads := make([]any, banqupMessages)
	for i := range payloads {
		payloads[i] = fmt.Appendf(nil, `{"data":{"id":"tx-%d","amount":"%d.15","currency":"PLN","status":"booked"},`+
			`"embedded":{"account":{"id":%d,"iban":"PL27114020040000300201355387"},"user":{"id":"u","businessContext":"individual"}},`+
			`"meta":{"buildId":"1","containerId":"c","operation":"created","initiator":"backgroundTask","timestamp":"2021-01-05T12:05:19.876Z"}}`,
			i, i, i%97+1)
	}
	if _, err := p.PublishMany(ctx, banqup.StreamTransaction, payloads); err != nil {
		return "", err
	}
	return queue, nil
}

// cleanup deletes the run's queue so the next fill does not copy into it.
func (b *banqupConsume) cleanup(queue string) {
	conn, err := amqp.Dial(b.url)
	if err != nil {
		return
	}
	defer conn.Close()
	if ch, err := conn.Channel(); err == nil {
		for _, q := range []string{queue, queue + "_error", queue + "_skipped"} {
			_, _ = ch.QueueDelete(q, false, false, false)
			_ = ch.ExchangeDelete(q, false, false)
		}
	}
}

// timed fills a queue, resets the peak-RSS counter, runs consume and
// returns messages per second and the peak RSS of the consumption.
func (b *banqupConsume) timed(ctx context.Context, consume func(ctx context.Context, queue string) error) (float64, int64, error) {
	queue, err := b.fill(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer b.cleanup(queue)
	runtime.GC()
	debug.FreeOSMemory()
	resetPeakRSS()
	start := time.Now()
	if err := consume(ctx, queue); err != nil {
		return 0, 0, err
	}
	return banqupMessages / time.Since(start).Seconds(), peakRSS(), nil
}

func (b *banqupConsume) sdk(ctx context.Context, queue string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var n atomic.Int64
	c, err := banqup.NewConsumer(b.url, queue)
	if err != nil {
		return err
	}
	c.OnTransaction(func(_ context.Context, e *banqup.TransactionEvent) error {
		if e.Message.Data.ID == "" {
			return errors.New("empty id")
		}
		if n.Add(1) == banqupMessages {
			cancel()
		}
		return nil
	})
	if err := c.Run(ctx); err != nil {
		return err
	}
	if n.Load() < banqupMessages {
		return fmt.Errorf("sdk consumer handled %d of %d", n.Load(), banqupMessages)
	}
	return nil
}

func (b *banqupConsume) raw(ctx context.Context, queue string) error {
	conn, err := amqp.Dial(b.url)
	if err != nil {
		return err
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	if err := ch.Qos(banqup.DefaultPrefetch, 0, false); err != nil {
		return err
	}
	ds, err := ch.Consume(queue, "", false, false, false, false, nil)
	if err != nil {
		return err
	}
	for i := 0; i < banqupMessages; i++ {
		var d amqp.Delivery
		select {
		case d = <-ds:
		case <-ctx.Done():
			return ctx.Err()
		}
		ev, err := banqup.Decode(d)
		if err != nil {
			return err
		}
		tx, ok := ev.(*banqup.TransactionEvent)
		if !ok || tx.Message.Data.ID == "" {
			return fmt.Errorf("unexpected %T", ev)
		}
		if err := d.Ack(false); err != nil {
			return err
		}
	}
	return nil
}

// resetPeakRSS resets the kernel's high-water mark of this process's
// resident set (Linux: clear_refs 5), so each run reports its own peak.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS returns VmHWM in bytes, or 0 where /proc is not available.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}
