package banqup_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notifykit/notifykit/banqup"
	"github.com/notifykit/notifykit/banqup/banquptest"
	"github.com/notifykit/notifykit/internal/testpki"
)

// tlsProxy terminates TLS with cfg and forwards to the plain AMQP port at
// upstream, standing in for a RabbitMQ amqps listener. It counts completed
// handshakes.
func tlsProxy(t *testing.T, cfg *tls.Config, upstream string) (addr string, handshakes *atomic.Int32) {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	handshakes = new(atomic.Int32)
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				if err := c.(*tls.Conn).Handshake(); err != nil {
					return
				}
				handshakes.Add(1)
				up, err := net.Dial("tcp", upstream)
				if err != nil {
					return
				}
				defer up.Close()
				go func() { _, _ = io.Copy(up, c); up.Close() }()
				_, _ = io.Copy(c, up)
			}()
		}
	}()
	return ln.Addr().String(), handshakes
}

// TestConsumeOverTLS runs the consumer over amqps:// with WithTLS trusting
// a private CA.
func TestConsumeOverTLS(t *testing.T) {
	b := rabbit(t)
	ca, err := testpki.NewCA(testpki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ca.Server("localhost", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(b.URL)
	if err != nil {
		t.Fatal(err)
	}
	addr, handshakes := tlsProxy(t, testpki.ServerTLS(srv, nil), u.Host)
	tlsURL := strings.Replace(b.URL, "amqp://", "amqps://", 1)
	tlsURL = strings.Replace(tlsURL, u.Host, addr, 1)

	queue := uniqueQueue(t)
	watch, states := stateWatcher()
	got := make(chan string, 1)
	c, err := banqup.NewConsumer(tlsURL, queue, watch, banqup.WithTLS(testpki.ClientTLS(ca, nil)))
	if err != nil {
		t.Fatal(err)
	}
	c.OnAccount(func(_ context.Context, e *banqup.AccountEvent) error {
		got <- e.ID()
		return nil
	})
	run(t, c)
	waitState(t, states, banqup.StateConsuming)
	id, err := publisher(t, b.URL).Publish(context.Background(), banqup.StreamAccount, banquptest.Fixture(banqup.StreamAccount))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case h := <-got:
		if h != id {
			t.Fatalf("handled %s, published %s", h, id)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("message not handled over TLS")
	}
	if n := handshakes.Load(); n < 2 { // consume and publish connections
		t.Errorf("%d TLS handshakes, want 2", n)
	}
}
