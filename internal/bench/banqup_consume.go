package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/notifykit/notifykit/banqup"
	"github.com/notifykit/notifykit/banqup/banquptest"
	"github.com/notifykit/notifykit/internal/brokertest"
)

// banqup-consume: 50,000 transaction messages published by banquptest into
// a fresh durable queue, then consumed either by banqup.Consumer with its
// defaults or by a hand-written amqp091-go loop with the same prefetch,
// manual acks and the same decoding (banqup.Decode into the same types).
// Only the consumption is timed and only its peak RSS reported: each run
// fills its queue first.
func init() {
	Register(Scenario[*banqupConsume]{
		Name:        "banqup-consume",
		Description: "banqup.Consumer vs a raw amqp091-go consumer (same prefetch), 50,000 transaction messages",
		Setup:       setupBanqupConsume,
		SDK: func(ctx context.Context, b *banqupConsume) (Result, error) {
			return b.timed(ctx, b.sdk)
		},
		Baseline: func(ctx context.Context, b *banqupConsume) (Result, error) {
			return b.timed(ctx, b.raw)
		},
	})
}

// banqupMessages is a variable so the runner's tests could shrink it.
var banqupMessages = 50000

type banqupConsume struct {
	url string
	seq atomic.Int64
}

func setupBanqupConsume(ctx context.Context) (*banqupConsume, func(), error) {
	br, err := brokertest.StartRabbitMQ(ctx)
	if err != nil {
		return nil, nil, err
	}
	return &banqupConsume{url: br.URL}, func() { _ = br.Close() }, nil
}

// payloads are built per run and dropped before the measurement, so that
// the peak RSS is the consumer's own.
func banqupPayloads() []any {
	out := make([]any, banqupMessages)
	for i := range out {
		out[i] = fmt.Appendf(nil, `{"data":{"id":"tx-%d","amount":"%d.15","currency":"PLN","status":"booked"},`+
			`"embedded":{"account":{"id":%d,"iban":"PL27114020040000300201355387"},"user":{"id":"u","businessContext":"individual"}},`+
			`"meta":{"buildId":"1","containerId":"c","operation":"created","initiator":"backgroundTask","timestamp":"2021-01-05T12:05:19.876Z"}}`,
			i, i, i%97+1)
	}
	return out
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
	p, err := banquptest.NewPublisher(ctx, b.url)
	if err != nil {
		return "", err
	}
	defer p.Close()
	if _, err := p.PublishMany(ctx, banqup.StreamTransaction, banqupPayloads()); err != nil {
		return "", err
	}
	// Later runs publish to the same exchange: this queue takes no more.
	if err := ch.QueueUnbind(queue, "", ex, nil); err != nil {
		return "", err
	}
	return queue, nil
}

// cleanup deletes the run's queue and the SDK's error and skipped
// endpoints.
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

// timed fills a queue, then restarts the peak-RSS mark and the clock so
// that the runner reports the consumption alone.
func (b *banqupConsume) timed(ctx context.Context, consume func(ctx context.Context, queue string) error) (Result, error) {
	queue, err := b.fill(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("fill: %w", err)
	}
	defer b.cleanup(queue)
	runtime.GC()
	debug.FreeOSMemory() // the publisher's buffers must not count as the consumer's
	_ = ResetPeakRSS()
	cpu0 := cpuTime()
	start := time.Now()
	if err := consume(ctx, queue); err != nil {
		return Result{}, err
	}
	d := time.Since(start)
	cpu := cpuTime() - cpu0
	return Result{Count: banqupMessages, Duration: d,
		Notes: []string{fmt.Sprintf("client CPU %v (%.1f µs/msg)", cpu.Round(time.Millisecond), float64(cpu.Microseconds())/float64(banqupMessages))}}, nil
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
		if n.Add(1) == int64(banqupMessages) {
			cancel()
		}
		return nil
	})
	if err := c.Run(ctx); err != nil {
		return err
	}
	if n.Load() < int64(banqupMessages) {
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

// cpuTime is the process's user plus system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
