package brokertest

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"

	"github.com/notifykit/notifykit/internal/testpki"
)

// An autopaho client must see Restart and Kill as connection losses and
// get back in on the same URL, with a working subscription each time.
func TestMosquittoRestartUnderClient(t *testing.T) {
	t.Parallel()
	b := Mosquitto(t, MosquittoConfig{})
	if !b.CanFault() {
		t.Skip("broker from the environment: restart not supported")
	}
	u, err := url.Parse(b.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	ups := make(chan struct{}, 10)
	downs := make(chan struct{}, 10)
	got := make(chan string, 10)
	cm, err := autopaho.NewConnection(ctx, autopaho.ClientConfig{
		ServerUrls:                    []*url.URL{u},
		KeepAlive:                     5,
		CleanStartOnInitialConnection: true,
		ReconnectBackoff:              func(int) time.Duration { return 50 * time.Millisecond },
		ConnectTimeout:                5 * time.Second,
		OnConnectionUp: func(cm *autopaho.ConnectionManager, _ *paho.Connack) {
			go func() {
				// Subscribe again on every connection, as real subscribers do.
				if _, err := cm.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "harness/#", QoS: 1}}}); err == nil {
					ups <- struct{}{}
				}
			}()
		},
		OnConnectionDown: func() bool { downs <- struct{}{}; return true },
		ClientConfig: paho.ClientConfig{
			ClientID: "brokertest-" + randHex(4),
			OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
				got <- string(pr.Packet.Payload)
				return true, nil
			}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer dcancel()
		_ = cm.Disconnect(dctx)
	}()

	roundTrip := func(msg string) {
		t.Helper()
		if _, err := cm.Publish(ctx, &paho.Publish{Topic: "harness/x", QoS: 1, Payload: []byte(msg)}); err != nil {
			t.Fatalf("publish %q: %v", msg, err)
		}
		if m := recv(t, got, msg); m != msg {
			t.Fatalf("received %q, want %q", m, msg)
		}
	}

	recv(t, ups, "first connection")
	roundTrip("first")

	if err := b.Restart(); err != nil {
		t.Fatal(err)
	}
	recv(t, downs, "the client to see the restart")
	recv(t, ups, "reconnection after restart")
	roundTrip("after restart")

	if err := b.Kill(); err != nil {
		t.Fatal(err)
	}
	recv(t, downs, "the client to see the kill")
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	recv(t, ups, "reconnection after kill")
	roundTrip("after kill")
}

// mqttClient connects one plain paho client over TLS.
func mqttClient(t *testing.T, tlsURL string, conf *tls.Config, clientID string) (*paho.Client, chan string, error) {
	t.Helper()
	u, err := url.Parse(tlsURL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d := tls.Dialer{NetDialer: &net.Dialer{}, Config: conf}
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, nil, err
	}
	got := make(chan string, 10)
	c := paho.NewClient(paho.ClientConfig{
		Conn:     packets.NewThreadSafeConn(conn),
		ClientID: clientID,
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			got <- pr.Packet.Topic + " " + string(pr.Packet.Payload)
			return true, nil
		}},
	})
	ca, err := c.Connect(ctx, &paho.Connect{ClientID: clientID, CleanStart: true, KeepAlive: 30})
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	if ca.ReasonCode != 0 {
		conn.Close()
		return nil, nil, errors.New("connack " + ca.Properties.ReasonString)
	}
	t.Cleanup(func() { _ = c.Disconnect(&paho.Disconnect{}) })
	return c, got, nil
}

// The KreditSmart shape: mutual TLS, the certificate's CN as username, and
// an ACL limiting each device to its own topics.
func TestMosquittoTLSWithACL(t *testing.T) {
	t.Parallel()
	ca, err := testpki.NewCA(testpki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ca.Server()
	if err != nil {
		t.Fatal(err)
	}
	b := Mosquitto(t, MosquittoConfig{
		TLS: &MosquittoTLS{
			CertPEM: srv.ChainPEM(), KeyPEM: srv.KeyPEM(), CAPEM: ca.RootPEM(),
			RequireCertificate: true, UseIdentityAsUsername: true,
		},
		ACL: "user device-1\ntopic readwrite devices/1/#\nuser device-2\ntopic readwrite devices/2/#\n",
	})
	if b.TLSURL == "" || !strings.HasPrefix(b.TLSURL, "mqtts://") {
		t.Fatalf("TLSURL = %q", b.TLSURL)
	}

	device1, err := ca.Client("device-1")
	if err != nil {
		t.Fatal(err)
	}
	device2, err := ca.Client("device-2")
	if err != nil {
		t.Fatal(err)
	}
	c1, got1, err := mqttClient(t, b.TLSURL, testpki.ClientTLS(ca, device1), "device-1")
	if err != nil {
		t.Fatalf("device with a valid certificate: %v", err)
	}
	c2, _, err := mqttClient(t, b.TLSURL, testpki.ClientTLS(ca, device2), "device-2")
	if err != nil {
		t.Fatalf("second device: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Mosquitto grants any subscription and applies the ACL per message.
	if _, err := c1.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "devices/#", QoS: 1}}}); err != nil {
		t.Fatal(err)
	}
	publish := func(c *paho.Client, topic, payload string) (byte, error) {
		r, err := c.Publish(ctx, &paho.Publish{Topic: topic, QoS: 1, Payload: []byte(payload)})
		if r == nil {
			return 0, err
		}
		return r.ReasonCode, err
	}
	// device-2's message is handled first (Mosquitto is single-threaded and
	// acknowledges after routing), so had the ACL let it through, device-1
	// would receive it before its own.
	if rc, err := publish(c2, "devices/2/state", "off"); err != nil || rc >= 0x80 {
		t.Fatalf("device-2 on its own topic: reason %#x, %v", rc, err)
	}
	if rc, err := publish(c1, "devices/2/state", "forged"); err == nil && rc < 0x80 {
		t.Errorf("device-1 published on device-2's topic: reason %#x", rc)
	}
	if rc, err := publish(c1, "devices/1/state", "on"); err != nil || rc >= 0x80 {
		t.Fatalf("device-1 on its own topic: reason %#x, %v", rc, err)
	}
	if m := recv(t, got1, "own topic"); m != "devices/1/state on" {
		t.Fatalf("device-1 received %q first; the ACL should have kept devices/2 from it", m)
	}

	expired, err := ca.Issue(testpki.Options{CommonName: "device-1", Expired: true})
	if err != nil {
		t.Fatal(err)
	}
	otherCA, err := testpki.NewCA(testpki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := otherCA.Client("device-1")
	if err != nil {
		t.Fatal(err)
	}
	for name, cert := range map[string]*testpki.Cert{"no certificate": nil, "expired certificate": expired, "foreign CA": foreign} {
		if _, _, err := mqttClient(t, b.TLSURL, testpki.ClientTLS(ca, cert), "intruder"); err == nil {
			t.Errorf("%s: broker accepted the client", name)
		}
	}
	// The plain listener still works for anonymous clients.
	if err := dialTCP(ctx, mustPort(t, b.URL)); err != nil {
		t.Errorf("plain listener: %v", err)
	}
}

func mustPort(t *testing.T, rawURL string) int {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	p, err := net.LookupPort("tcp", u.Port())
	if err != nil {
		t.Fatal(err)
	}
	return p
}
