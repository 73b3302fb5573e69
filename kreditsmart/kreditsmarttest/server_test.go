package kreditsmarttest

import (
	"context"
	"crypto/tls"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"

	"github.com/notifykit/notifykit/internal/testpki"
)

func TestAWSMatch(t *testing.T) {
	for _, c := range []struct {
		filter, topic string
		want          bool
	}{
		{"T/#", "T/a", true},
		{"T/#", "T/a/b", true},
		{"T/#", "T/", true},
		{"T/#", "T", false}, // AWS: # does not match the parent level
		{"T", "T", true},
		{"T/+", "T/a", true},
		{"T/+", "T/a/b", false},
		{"T/+/c", "T/a/c", true},
		{"#", "x", true},
		{"T/a", "T/b", false},
	} {
		if got := awsMatch(c.filter, c.topic); got != c.want {
			t.Errorf("awsMatch(%q, %q) = %v", c.filter, c.topic, got)
		}
	}
	if TopicFor("A/B/C/D/E/F/G/H/I") != "A/B/C/D/E/F/G" || TopicFor("A/B") != "A/B" {
		t.Error("TopicFor")
	}
	if unshare("$share/g/T/#") != "T/#" || unshare("T/#") != "T/#" {
		t.Error("unshare")
	}
}

// dial connects a raw paho client as dev and reports connection losses.
func dial(t *testing.T, s *Server, dev *Device) (*autopaho.ConnectionManager, chan struct{}, chan *paho.Publish) {
	t.Helper()
	u, _ := url.Parse("mqtts://" + s.Endpoint())
	down := make(chan struct{}, 10)
	msgs := make(chan *paho.Publish, 10)
	ctx, cancel := context.WithCancel(context.Background())
	tc := testpki.ClientTLS(s.CA(), nil)
	tc.Certificates = []tls.Certificate{dev.Certificate}
	cm, err := autopaho.NewConnection(ctx, autopaho.ClientConfig{
		ServerUrls: []*url.URL{u}, TlsCfg: tc, KeepAlive: 30,
		ReconnectBackoff: autopaho.NewConstantBackoff(time.Hour),
		OnConnectionDown: func() bool { down <- struct{}{}; return false },
		ClientConfig: paho.ClientConfig{ClientID: dev.Name, OnPublishReceived: []func(paho.PublishReceived) (bool, error){
			func(pr paho.PublishReceived) (bool, error) { msgs <- pr.Packet; return true, nil }}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); <-cm.Done() })
	actx, acancel := context.WithTimeout(ctx, 5*time.Second)
	defer acancel()
	if err := cm.AwaitConnection(actx); err != nil {
		t.Fatal(err)
	}
	return cm, down, msgs
}

func TestPolicyViolationClosesConnection(t *testing.T) {
	s := NewServer(t)
	dev := s.AddDevice("d1", "ROOT/A")
	for _, filter := range []string{"ROOT/B/#", "ROOT/#", "$aws/things/other/shadow/get/accepted", "A/B/C/D/E/F/G/H/#"} {
		cm, down, _ := dial(t, s, dev)
		ctx, cancel := context.WithCancel(context.Background())
		// paho may not fail the pending SUBSCRIBE when the connection
		// drops, so wait for the drop, not for Subscribe.
		go func() {
			_, _ = cm.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: 1}}})
		}()
		select {
		case <-down:
		case <-time.After(3 * time.Second):
			t.Errorf("SUBSCRIBE %s: connection stayed up", filter)
		}
		cancel()
	}
}

func TestShadowGetAndUpdate(t *testing.T) {
	s := NewServer(t)
	dev := s.AddDevice("d2", "ROOT/A")
	cm, _, msgs := dial(t, s, dev)
	ctx := t.Context()
	p := "$aws/things/d2/shadow"
	if _, err := cm.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{
		{Topic: p + "/get/accepted", QoS: 1}, {Topic: p + "/update/documents", QoS: 1}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cm.Publish(ctx, &paho.Publish{Topic: p + "/get", QoS: 1, Payload: []byte(`{"clientToken":"tok1"}`)}); err != nil {
		t.Fatal(err)
	}
	m := <-msgs
	if m.Topic != p+"/get/accepted" || !strings.Contains(string(m.Payload), `"clientToken":"tok1"`) || !strings.Contains(string(m.Payload), `"topic":"ROOT/A"`) {
		t.Fatalf("get answer %s %s", m.Topic, m.Payload)
	}
	if _, err := cm.Publish(ctx, &paho.Publish{Topic: p + "/update", QoS: 1, Payload: []byte(`{"state":{"reported":{"topic":"ROOT/B"}}}`)}); err != nil {
		t.Fatal(err)
	}
	select {
	case m = <-msgs:
	case <-time.After(3 * time.Second):
		t.Fatal("no update/documents")
	}
	if m.Topic != p+"/update/documents" || !strings.Contains(string(m.Payload), `"current":{"state":{"reported":{"topic":"ROOT/B"}}`) {
		t.Fatalf("documents %s %s", m.Topic, m.Payload)
	}
}
