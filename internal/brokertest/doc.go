// Package brokertest gives tests a real RabbitMQ or Mosquitto, and the means
// to break it.
//
//	func TestConsume(t *testing.T) {
//		rmq := brokertest.RabbitMQ(t) // shared node of this test binary
//		conn, err := amqp.Dial(rmq.URL)
//		...
//		if err := rmq.Restart(); err != nil { // clients see the connection drop
//			t.Fatal(err)
//		}
//	}
//
//	mq := brokertest.Mosquitto(t, brokertest.MosquittoConfig{
//		TLS: &brokertest.MosquittoTLS{
//			CertPEM: srv.ChainPEM(), KeyPEM: srv.KeyPEM(), CAPEM: ca.RootPEM(),
//			RequireCertificate: true, UseIdentityAsUsername: true,
//		},
//		ACL: "user device-1\ntopic read devices/1/#\n",
//	})
//	// mq.URL is mqtt://127.0.0.1:<port>, mq.TLSURL mqtts://127.0.0.1:<port>
//
// (srv and ca come from internal/testpki.)
//
// # Where brokers come from
//
// In this order:
//
//  1. NOTIFYKIT_AMQP_URL / NOTIFYKIT_MQTT_URL. The harness does not control
//     such a broker: CanFault is false and the fault methods return
//     ErrNotSupported, so fault tests skip. NOTIFYKIT_MQTT_URL serves only
//     the zero MosquittoConfig, since TLS listeners and ACLs cannot be added
//     to someone else's broker.
//  2. A private instance of the installed rabbitmq-server or mosquitto
//     binary on free loopback ports, with its own data directory, owned by
//     this process. On Debian the inner /usr/lib/rabbitmq/bin/rabbitmq-server
//     script is run directly, as the current user: the /usr/sbin wrapper
//     would switch to the rabbitmq user through su, into a session that Kill
//     cannot reach.
//  3. testcontainers-go (rabbitmq:3.13, eclipse-mosquitto:2) when a Docker
//     engine answers. Container brokers cannot be restarted on the same
//     address, so their fault methods return ErrNotSupported too.
//  4. Otherwise the test is skipped with the install command
//     (apt-get update && apt-get install -y rabbitmq-server mosquitto), or
//     fails when NOTIFYKIT_REQUIRE_BROKERS=1. A binary that is installed but
//     fails to start is always a failure.
//
// # Sharing
//
// A RabbitMQ node takes seconds to start, so RabbitMQ(t) hands every test of
// a test binary the same node; use unique queue and exchange names. Fault
// methods on it refuse (ErrShared) while unrelated tests hold it at the same
// time, and the node is started again when a fault test ends with it down.
// PrivateRabbitMQ(t) gives a test its own node. Mosquitto starts in
// milliseconds, so every Mosquitto(t, conf) is private.
//
// # Clean-up
//
// Test helpers stop and delete their brokers in t.Cleanup; the shared node
// goes at process exit (cleanly when TestMain calls Main). Every broker
// process also has a watchdog that kills it and deletes its data when the
// test process dies without cleaning up — on a test timeout panic, say — so
// no broker outlives its test binary. Only the Erlang port mapper (epmd),
// a shared system daemon, stays running.
//
// # Outside tests
//
// StartRabbitMQ and StartMosquitto resolve brokers the same way for
// programs such as the bench runner and return ErrNoBroker instead of
// skipping; the caller must Close the broker.
package brokertest
