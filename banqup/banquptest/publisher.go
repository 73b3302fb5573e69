package banquptest

import (
	"context"
	"errors"
	"fmt"
	"sync"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/notifykit/notifykit/banqup"
)

// Publisher publishes to RabbitMQ exactly as banqUP's MassTransit publisher
// does: it declares each stream's type exchange the MassTransit way
// (fanout, durable) on first use and publishes persistent envelopes with
// publisher confirms. It is safe for concurrent use.
type Publisher struct {
	opts     []Option
	conn     *amqp.Connection
	mu       sync.Mutex
	ch       *amqp.Channel
	declared map[string]bool
}

// NewPublisher connects to url (amqp:// or amqps://).
func NewPublisher(ctx context.Context, url string, opts ...Option) (*Publisher, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	conn, err := amqp.Dial(url)
	if err != nil {
		return nil, fmt.Errorf("banquptest: dial: %w", err)
	}
	ch, err := conn.Channel()
	if err == nil {
		err = ch.Confirm(false)
	}
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("banquptest: channel: %w", err)
	}
	return &Publisher{opts: opts, conn: conn, ch: ch, declared: map[string]bool{}}, nil
}

// Close closes the connection.
func (p *Publisher) Close() error { return p.conn.Close() }

// DeclareExchanges declares the type exchanges of streams (all five when
// none are given) as MassTransit does.
func (p *Publisher) DeclareExchanges(streams ...banqup.Stream) error {
	if len(streams) == 0 {
		streams = banqup.Streams()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range streams {
		if err := p.declareLocked(s.Exchange()); err != nil {
			return err
		}
	}
	return nil
}

func (p *Publisher) declareLocked(exchange string) error {
	if p.declared[exchange] || exchange == "" {
		return nil
	}
	if err := p.ch.ExchangeDeclare(exchange, amqp.ExchangeFanout, true, false, false, false, nil); err != nil {
		return fmt.Errorf("banquptest: declare %s: %w", exchange, err)
	}
	p.declared[exchange] = true
	return nil
}

// Publish sends one message of stream s (see NewPublishing for payload) and
// waits for the broker's confirm. It returns the message id.
func (p *Publisher) Publish(ctx context.Context, s banqup.Stream, payload any) (string, error) {
	ids, err := p.PublishMany(ctx, s, []any{payload})
	if len(ids) == 0 {
		return "", err
	}
	return ids[0], err
}

// PublishMany sends the payloads as messages of stream s, pipelining
// publisher confirms, and returns their message ids once all are
// confirmed.
func (p *Publisher) PublishMany(ctx context.Context, s banqup.Stream, payloads []any) ([]string, error) {
	msgs := make([]amqp.Publishing, len(payloads))
	ids := make([]string, len(payloads))
	for i, pl := range payloads {
		m, id, err := NewPublishing(s, pl, p.opts...)
		if err != nil {
			return nil, err
		}
		msgs[i], ids[i] = m, id
	}
	if err := p.PublishRaw(ctx, s.Exchange(), "", msgs...); err != nil {
		return nil, err
	}
	return ids, nil
}

// errNacked reports a publish the broker refused.
var errNacked = errors.New("banquptest: broker nacked a publish")

// PublishRaw publishes msgs as they are to exchange (declared as a
// MassTransit type exchange unless it is "" or already declared) and waits
// for all confirms. Tests use it for poison messages.
func (p *Publisher) PublishRaw(ctx context.Context, exchange, routingKey string, msgs ...amqp.Publishing) error {
	const window = 512 // confirms in flight; bounds memory for big batches
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.declareLocked(exchange); err != nil {
		return err
	}
	pending := make([]*amqp.DeferredConfirmation, 0, window)
	wait := func(n int) error {
		for len(pending) > n {
			ok, err := pending[0].WaitContext(ctx)
			if err != nil {
				return err
			}
			if !ok {
				return errNacked
			}
			pending = pending[1:]
		}
		return nil
	}
	for _, m := range msgs {
		dc, err := p.ch.PublishWithDeferredConfirmWithContext(ctx, exchange, routingKey, false, false, m)
		if err != nil {
			return fmt.Errorf("banquptest: publish: %w", err)
		}
		pending = append(pending, dc)
		if err := wait(window - 1); err != nil {
			return err
		}
	}
	return wait(0)
}
