package brokertest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// rmqClient is a connection with a confirming channel on one durable queue.
type rmqClient struct {
	conn   *amqp.Connection
	ch     *amqp.Channel
	queue  string
	closed chan *amqp.Error
}

func dialRMQ(t *testing.T, url, queue string) *rmqClient {
	t.Helper()
	conn, err := amqp.Dial(url)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare(queue, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	return &rmqClient{conn: conn, ch: ch, queue: queue, closed: conn.NotifyClose(make(chan *amqp.Error, 1))}
}

// publish sends a persistent message and waits for the broker's confirm,
// which RabbitMQ gives once the message is on disk.
func (c *rmqClient) publish(t *testing.T, body string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dc, err := c.ch.PublishWithDeferredConfirmWithContext(ctx, "", c.queue, true, false,
		amqp.Publishing{DeliveryMode: amqp.Persistent, Body: []byte(body)})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := dc.WaitContext(ctx); !ok || err != nil {
		t.Fatalf("publish %q not confirmed: ok=%v err=%v", body, ok, err)
	}
}

func (c *rmqClient) get(t *testing.T) string {
	t.Helper()
	msg, ok, err := c.ch.Get(c.queue, true)
	if err != nil || !ok {
		t.Fatalf("get from %s: ok=%v err=%v", c.queue, ok, err)
	}
	return string(msg.Body)
}

// The acceptance test of the harness: a connected client sees a restart as a
// dropped connection, reconnects to the same URL and finds its durable
// data.
func TestRabbitMQRestartUnderClient(t *testing.T) {
	t.Parallel()
	b := RabbitMQ(t)
	if !b.CanFault() {
		t.Skip("broker from the environment: restart not supported")
	}
	queue := "brokertest-restart-" + randHex(4)
	c := dialRMQ(t, b.URL, queue)
	c.publish(t, "before restart")

	if err := b.Restart(); err != nil {
		t.Fatal(err)
	}
	if e := recv(t, c.closed, "the client to see the restart"); e == nil {
		t.Log("connection closed without an error value")
	}
	if !c.conn.IsClosed() {
		t.Fatal("client connection still open after a restart")
	}

	c = dialRMQ(t, b.URL, queue) // Restart returned, so the broker is ready
	if got := c.get(t); got != "before restart" {
		t.Fatalf("after restart got %q", got)
	}

	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	recv(t, c.closed, "the client to see the stop")
	if conn, err := amqp.Dial(b.URL); err == nil {
		conn.Close()
		t.Fatal("dial succeeded while the broker was stopped")
	}
	if err := b.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatalf("Start on a running broker: %v", err)
	}
	dialRMQ(t, b.URL, queue)
}

// Kill takes down every process of the node at once; Start brings it back
// on the same port with the confirmed messages; Close leaves nothing behind.
func TestPrivateRabbitMQKill(t *testing.T) {
	t.Parallel()
	b := PrivateRabbitMQ(t)
	if !b.CanFault() {
		t.Skip("broker from the environment: kill not supported")
	}
	l := local(t, b)
	// Every process of the node inherits its data directory in RABBITMQ_*
	// variables, even those in other process groups.
	node := l.dir
	if pids := livePIDs(t, node); len(pids) < 2 {
		t.Fatalf("processes of the node: %v, want the script and beam at least", pids)
	}

	c := dialRMQ(t, b.URL, "brokertest-kill")
	c.publish(t, "confirmed before kill")
	if err := b.Kill(); err != nil {
		t.Fatal(err)
	}
	recv(t, c.closed, "the client to see the kill")
	waitGone(t, node)
	if err := b.Kill(); err != nil {
		t.Fatalf("Kill on a killed broker: %v", err)
	}

	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	c = dialRMQ(t, b.URL, "brokertest-kill")
	if got := c.get(t); got != "confirmed before kill" {
		t.Fatalf("after kill got %q", got)
	}

	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	waitGone(t, node)
	if _, err := os.Stat(l.dir); !os.IsNotExist(err) {
		t.Fatalf("data directory %s left behind (%v)", l.dir, err)
	}
	if err := b.Start(); err == nil {
		t.Fatal("Start after Close succeeded")
	}
}

// When the test process dies without cleaning up, the watchdog must take
// the broker and its data with it. Closing the watchdog's pipe is exactly
// what the kernel does when we die.
func TestWatchdogKillsOrphans(t *testing.T) {
	t.Parallel()
	b := Mosquitto(t, MosquittoConfig{})
	l := local(t, b)
	conf := filepath.Join(l.dir, "mosquitto.conf")
	if len(livePIDs(t, conf)) == 0 {
		t.Fatal("mosquitto is not running")
	}
	l.mu.Lock()
	l.p.watchdogPipe.Close()
	l.mu.Unlock()
	waitGone(t, conf)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(l.dir); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("watchdog left %s behind", l.dir)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
