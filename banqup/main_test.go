package banqup_test

import (
	"testing"

	"github.com/notifykit/notifykit/internal/brokertest"
)

// TestMain stops the shared RabbitMQ node cleanly after the tests.
func TestMain(m *testing.M) { brokertest.Main(m) }

// rabbit returns the test binary's shared RabbitMQ node: use unique queue
// names.
func rabbit(t testing.TB) *brokertest.Broker { return brokertest.RabbitMQ(t) }

// privateRabbit returns a RabbitMQ node for this test alone, which it may
// restart or kill.
func privateRabbit(t testing.TB) *brokertest.Broker { return brokertest.PrivateRabbitMQ(t) }
