package brokertest

import (
	"context"
	"errors"
	"fmt"
	"time"
)

var (
	// ErrNotSupported is returned by the fault methods of a broker the
	// harness does not control: one given by NOTIFYKIT_AMQP_URL or
	// NOTIFYKIT_MQTT_URL, or a testcontainers container. Fault tests skip
	// when they see it.
	ErrNotSupported = errors.New("brokertest: not supported for this broker")

	// ErrNoBroker means no way to get a broker was found: no URL in the
	// environment, no installed binary and no Docker engine. The test
	// helpers turn it into a skip, or a failure under
	// NOTIFYKIT_REQUIRE_BROKERS=1.
	ErrNoBroker = errors.New("brokertest: no broker available")

	// ErrShared is returned by the fault methods of the shared RabbitMQ when
	// tests other than the caller hold it at the same time: breaking it
	// would break them. Use PrivateRabbitMQ in tests that break the broker
	// while others run in parallel.
	ErrShared = errors.New("brokertest: shared broker is in use by other tests")
)

// Start and stop deadlines for the no-context methods, generous enough for
// a loaded two-core CI machine.
const (
	startTimeout = 3 * time.Minute
	stopTimeout  = 2 * time.Minute
)

// backend is what a Broker controls: a local process or a container.
type backend interface {
	start(ctx context.Context) error // no-op while running
	stop(ctx context.Context) error  // clean shutdown; no-op while stopped
	kill() error                     // SIGKILL; no-op while stopped
	close() error                    // stop for good and remove data
}

// Broker is a handle on a running broker.
//
// Stop, Start, Restart and Kill let fault tests break the broker while
// clients are connected; the broker comes back on the same address with the
// same data. They block until the broker is down or accepts connections
// again.
type Broker struct {
	// URL is the plain-TCP address: amqp://guest:guest@127.0.0.1:<port>/ for
	// RabbitMQ, mqtt://127.0.0.1:<port> for Mosquitto, or the environment's
	// URL.
	URL string
	// TLSURL is mqtts://127.0.0.1:<port> when a Mosquitto TLS listener was
	// configured, and empty otherwise.
	TLSURL string

	b      backend      // nil for a broker from the environment
	guard  func() error // non-nil for handles on the shared RabbitMQ
	shared bool
}

// CanFault reports whether Stop, Start, Restart and Kill work on this broker.
// Fault tests skip when it is false.
func (b *Broker) CanFault() bool {
	_, isContainer := b.b.(*containerBroker)
	return b.b != nil && !isContainer
}

// Stop shuts the broker down cleanly (SIGTERM) and waits until it is gone.
// Stopping a stopped broker does nothing.
func (b *Broker) Stop() error {
	if err := b.faultable(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	return b.b.stop(ctx)
}

// Start brings a stopped or killed broker back on the same address and data
// and waits until it accepts connections. Starting a running broker does
// nothing.
func (b *Broker) Start() error {
	if err := b.faultable(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	return b.b.start(ctx)
}

// Restart is Stop followed by Start.
func (b *Broker) Restart() error {
	if err := b.Stop(); err != nil {
		return err
	}
	return b.Start()
}

// Kill ends the broker with SIGKILL, all its processes at once, as a crash
// would, and waits until they are gone. Connections drop without a goodbye
// and unconfirmed work is lost. Messages RabbitMQ confirmed survive; so do
// its queues and exchanges, because Kill first has RabbitMQ flush its schema
// log (see syncSchema: about a second). Mosquitto keeps only what it saved
// at its last autosave. Killing a stopped broker does nothing.
func (b *Broker) Kill() error {
	if err := b.faultable(); err != nil {
		return err
	}
	return b.b.kill()
}

// Close stops the broker for good and removes its data. Brokers from the
// test helpers are closed by t.Cleanup; call Close on brokers from
// StartRabbitMQ and StartMosquitto. The shared RabbitMQ cannot be closed
// (ErrShared): it lives until the test binary exits.
func (b *Broker) Close() error {
	if b.shared {
		return fmt.Errorf("%w: it is closed when the test binary exits", ErrShared)
	}
	if b.b == nil {
		return nil
	}
	return b.b.close()
}

func (b *Broker) faultable() error {
	if !b.CanFault() {
		return ErrNotSupported
	}
	if b.guard != nil {
		return b.guard()
	}
	return nil
}
