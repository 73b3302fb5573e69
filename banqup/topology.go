package banqup

import (
	"errors"
	"fmt"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Suffixes of MassTransit's error and skipped endpoints.
const (
	errorSuffix   = "_error"
	skippedSuffix = "_skipped"
)

// declareTopology lays out the receive endpoint the way MassTransit does:
// fanout exchange q bound to durable queue q, each stream's type exchange
// bound exchange-to-exchange to q, and q_error / q_skipped (exchange plus
// queue). Type exchanges are declared exactly as MassTransit declares them
// (fanout, durable, not auto-delete, not internal, no arguments); any
// difference would make RabbitMQ close the channel with 406.
func declareTopology(ch *amqp.Channel, queue string, streams []Stream, args amqp.Table) error {
	endpoint := func(name string) error {
		if err := ch.ExchangeDeclare(name, amqp.ExchangeFanout, true, false, false, false, nil); err != nil {
			return err
		}
		if _, err := ch.QueueDeclare(name, true, false, false, false, args); err != nil {
			return err
		}
		return ch.QueueBind(name, "", name, false, nil)
	}
	for _, name := range []string{queue, queue + errorSuffix, queue + skippedSuffix} {
		if err := endpoint(name); err != nil {
			return topologyError(name, err)
		}
	}
	for _, s := range streams {
		if err := ch.ExchangeDeclare(s.Exchange(), amqp.ExchangeFanout, true, false, false, false, nil); err != nil {
			return topologyError(s.Exchange(), err)
		}
		if err := ch.ExchangeBind(queue, "", s.Exchange(), false, nil); err != nil {
			return topologyError(s.Exchange(), err)
		}
	}
	return nil
}

// checkTopology verifies with passive declarations that the queue and the
// error and skipped endpoints exist.
func checkTopology(ch *amqp.Channel, queue string) error {
	if _, err := ch.QueueDeclarePassive(queue, true, false, false, false, nil); err != nil {
		return topologyError(queue, err)
	}
	for _, name := range []string{queue + errorSuffix, queue + skippedSuffix} {
		if err := ch.ExchangeDeclarePassive(name, amqp.ExchangeFanout, true, false, false, false, nil); err != nil {
			return topologyError(name, err)
		}
		if _, err := ch.QueueDeclarePassive(name, true, false, false, false, nil); err != nil {
			return topologyError(name, err)
		}
	}
	return nil
}

// topologyError classifies broker refusals: 406/404 are configuration
// mistakes and 403 is a permission problem, none of which a reconnect
// fixes; anything else (a dropped connection) is retried.
func topologyError(name string, err error) error {
	var ae *amqp.Error
	if errors.As(err, &ae) {
		switch ae.Code {
		case amqp.PreconditionFailed, amqp.NotFound:
			return fmt.Errorf("%w: %s: %s", ErrTopology, name, ae.Reason)
		case amqp.AccessRefused:
			return fmt.Errorf("%w: %s: %s", ErrAccessRefused, name, ae.Reason)
		}
	}
	return fmt.Errorf("banqup: declare %s: %w", name, err)
}

// isPermanent reports errors Run returns instead of reconnecting.
func isPermanent(err error) bool {
	return errors.Is(err, ErrTopology) || errors.Is(err, ErrAccessRefused)
}
