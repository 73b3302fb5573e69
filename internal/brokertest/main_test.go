package brokertest

import "testing"

// Main stops the shared RabbitMQ cleanly at the end; the watchdog path is
// covered by TestWatchdogKillsOrphans.
func TestMain(m *testing.M) { Main(m) }
