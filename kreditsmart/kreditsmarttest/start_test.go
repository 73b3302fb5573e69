package kreditsmarttest

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/url"
	"runtime"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"

	"github.com/notifykit/notifykit/internal/testpki"
)

// TestStartCloseLeavesNoGoroutines runs a fake from Start with a connected
// device that receives a message, closes it, and expects the goroutine
// count back where it was: the CLI starts and stops the fake outside any
// test, so nothing may outlive Close.
func TestStartCloseLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()

	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	dev, err := s.CreateDevice("d-start", "ROOT/A")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("mqtts://" + s.Endpoint())
	tc := testpki.ClientTLS(s.CA(), nil)
	tc.Certificates = []tls.Certificate{dev.Certificate}
	msgs := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cm, err := autopaho.NewConnection(ctx, autopaho.ClientConfig{
		ServerUrls: []*url.URL{u}, TlsCfg: tc, KeepAlive: 30,
		ClientConfig: paho.ClientConfig{ClientID: dev.Name, OnPublishReceived: []func(paho.PublishReceived) (bool, error){
			func(pr paho.PublishReceived) (bool, error) {
				select {
				case msgs <- pr.Packet.Topic:
				default:
				}
				return true, nil
			}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	actx, acancel := context.WithTimeout(ctx, 5*time.Second)
	defer acancel()
	if err := cm.AwaitConnection(actx); err != nil {
		t.Fatal(err)
	}
	if _, err := cm.Subscribe(actx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "ROOT/A/#", QoS: 1}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.PublishNotification("ROOT/A/B", "VN1"); err != nil {
		t.Fatal(err)
	}
	select {
	case topic := <-msgs:
		if topic != "ROOT/A/B" {
			t.Fatalf("delivered on %q", topic)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no delivery")
	}
	cancel()
	<-cm.Done()

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if c, err := net.DialTimeout("tcp", s.Endpoint(), time.Second); err == nil {
		c.Close()
		t.Fatal("listener still accepts after Close")
	}

	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines after Close, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestStartHelpersReturnErrors(t *testing.T) {
	if _, err := Start(WithLogger(nil)); err == nil {
		t.Fatal("Start(WithLogger(nil)) succeeded")
	}
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.ReplaceShadow("d", "", []byte("{not json")); err == nil {
		t.Fatal("ReplaceShadow accepted invalid JSON")
	}
	if err := s.ReplaceShadow("d", "", []byte("null")); err == nil {
		t.Fatal("ReplaceShadow accepted null")
	}
	if err := s.ReplaceShadow("d", "", []byte(`{"state":{"reported":{"topic":"X"}}}`)); err != nil {
		t.Fatal(err)
	}
	if doc, ok := s.Shadow("d", ""); !ok || len(doc) == 0 {
		t.Fatal("shadow not stored")
	}
	var perr error
	func() {
		defer func() { perr, _ = recover().(error) }()
		s.SetShadow("d", "", []byte("{"))
	}()
	if perr == nil || errors.Unwrap(perr) == nil {
		t.Fatalf("SetShadow on a Start server: recovered %v, want the wrapped JSON error", perr)
	}
}
