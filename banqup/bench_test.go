package banqup_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/notifykit/notifykit/banqup"
	"github.com/notifykit/notifykit/banqup/banquptest"
)

func BenchmarkDecode(b *testing.B) {
	for _, s := range banqup.Streams() {
		for _, ser := range []banquptest.Serializer{banquptest.SystemTextJSON, banquptest.Newtonsoft} {
			name := fmt.Sprintf("%s/%s", s, map[banquptest.Serializer]string{banquptest.SystemTextJSON: "stj", banquptest.Newtonsoft: "newtonsoft"}[ser])
			d := delivery(b, s, banquptest.Fixture(s), banquptest.WithSerializer(ser))
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(d.Body)))
				for b.Loop() {
					if _, err := banqup.Decode(d); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// fillQueue declares queue bound to the transaction exchange as the SDK
// would, and publishes n transactions into it.
func fillQueue(tb testing.TB, url, queue string, n int) {
	tb.Helper()
	conn, err := amqp.Dial(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		tb.Fatal(err)
	}
	ex := banqup.StreamTransaction.Exchange()
	if err := ch.ExchangeDeclare(ex, "fanout", true, false, false, false, nil); err != nil {
		tb.Fatal(err)
	}
	if _, err := ch.QueueDeclare(queue, true, false, false, false, nil); err != nil {
		tb.Fatal(err)
	}
	if err := ch.QueueBind(queue, "", ex, false, nil); err != nil {
		tb.Fatal(err)
	}
	p, err := banquptest.NewPublisher(context.Background(), url)
	if err != nil {
		tb.Fatal(err)
	}
	defer p.Close()
	if _, err := p.PublishMany(context.Background(), banqup.StreamTransaction, txPayloads(0, n)); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkConsume compares the SDK consumer with a hand-written amqp091-go
// loop (same prefetch, manual ack, same decoding) on a pre-filled queue.
func BenchmarkConsume(b *testing.B) {
	br := rabbit(b)
	const n = 20000
	for _, variant := range []string{"sdk", "raw"} {
		b.Run(variant, func(b *testing.B) {
			var total time.Duration
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				queue := fmt.Sprintf("bench-%s-%d-%d", variant, time.Now().UnixNano(), i)
				fillQueue(b, br.URL, queue, n)
				b.StartTimer()
				start := time.Now()
				var err error
				if variant == "sdk" {
					err = consumeSDK(br.URL, queue, n, banqup.DefaultPrefetch)
				} else {
					err = consumeRaw(br.URL, queue, n, banqup.DefaultPrefetch)
				}
				total += time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/total.Seconds(), "msgs/s")
		})
	}
}

func consumeSDK(url, queue string, n, prefetch int) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var count atomic.Int64
	c, err := banqup.NewConsumer(url, queue, banqup.WithPrefetch(prefetch))
	if err != nil {
		return err
	}
	c.OnTransaction(func(_ context.Context, e *banqup.TransactionEvent) error {
		if count.Add(1) == int64(n) {
			cancel()
		}
		return nil
	})
	return c.Run(ctx)
}

func consumeRaw(url, queue string, n, prefetch int) error {
	conn, err := amqp.Dial(url)
	if err != nil {
		return err
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	if err := ch.Qos(prefetch, 0, false); err != nil {
		return err
	}
	ds, err := ch.Consume(queue, "", false, false, false, false, nil)
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		d := <-ds
		ev, err := banqup.Decode(d)
		if err != nil {
			return err
		}
		if _, ok := ev.(*banqup.TransactionEvent); !ok {
			return fmt.Errorf("got %T", ev)
		}
		if err := d.Ack(false); err != nil {
			return err
		}
	}
	return nil
}
