package kreditsmart

import (
	"context"
	"crypto/tls"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
)

func testCert(t *testing.T) tls.Certificate {
	t.Helper()
	// Any non-empty certificate and key pass option validation; the TLS
	// handshake is tested against real brokers elsewhere.
	return tls.Certificate{Certificate: [][]byte{{1}}, PrivateKey: struct{}{}}
}

func TestNewSubscriberValidates(t *testing.T) {
	cert := WithClientCertificate(testCert(t))
	static := WithStaticTopic("ECHTGESCHAEFT/ABC12")
	cases := []struct {
		name     string
		endpoint string
		client   string
		opts     []Option
	}{
		{"no certificate", "h", "c", []Option{static}},
		{"no topic source", "h", "c", []Option{cert}},
		{"static and thing", "h", "c", []Option{cert, static, WithThing("t")}},
		{"shadow option without thing", "h", "c", []Option{cert, static, WithShadowName("s")}},
		{"empty client id", "h", "", []Option{cert, static}},
		{"long client id", "h", strings.Repeat("c", 129), []Option{cert, static}},
		{"bad port", "h:99999", "c", []Option{cert, static}},
		{"keepalive too short", "h", "c", []Option{cert, static, WithKeepAlive(10 * time.Second)}},
		{"keepalive too long", "h", "c", []Option{cert, static, WithKeepAlive(1201 * time.Second)}},
		{"qos 2", "h", "c", []Option{cert, static, WithQoS(2)}},
		{"bad pointer", "h", "c", []Option{cert, WithThing("t"), WithTopicPointer("state/topic")}},
		{"static too deep for /#", "h", "c", []Option{cert, WithStaticTopic("A/B/C/D/E/F/G/H")}},
		{"static wildcard", "h", "c", []Option{cert, WithStaticTopic("A/#")}},
		{"thing with slash", "h", "c", []Option{cert, WithThing("a/b")}},
		{"share group with slash", "h", "c", []Option{cert, static, WithSharedSubscription("a/b")}},
		{"https with documents", "h", "c", []Option{cert, WithThing("t"), WithTopicPointer("/a"), WithShadowHTTPS("", nil), WithWatchShadow(true, 0)}},
		{"backoff min > max", "h", "c", []Option{cert, static, WithReconnectBackoff(time.Second, time.Millisecond)}},
		{"retry without backoff", "h", "c", []Option{cert, static, WithRetry(3, nil)}},
		{"zero concurrency", "h", "c", []Option{cert, static, WithConcurrency(0)}},
	}
	for _, c := range cases {
		if _, err := NewSubscriber(c.endpoint, c.client, c.opts...); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: err = %v, want ErrConfig", c.name, err)
		}
	}
	s, err := NewSubscriber("example-ats.iot.eu-central-1.amazonaws.com:443", "c", cert, static)
	if err != nil {
		t.Fatal(err)
	}
	if s.o.port != 443 || s.tls.ServerName != "example-ats.iot.eu-central-1.amazonaws.com" ||
		len(s.tls.NextProtos) != 1 || s.tls.NextProtos[0] != "x-amzn-mqtt-ca" || s.tls.MinVersion != tls.VersionTLS12 || !s.tls.SessionTicketsDisabled {
		t.Errorf("TLS config for 443: %+v", s.tls)
	}
	s, _ = NewSubscriber("example", "c", cert, static)
	if s.o.port != 8883 || len(s.tls.NextProtos) != 0 {
		t.Errorf("default port %d ALPN %v", s.o.port, s.tls.NextProtos)
	}
	if err := (&Subscriber{}).Run(context.Background()); !errors.Is(err, ErrConfig) {
		t.Errorf("Run without handler = %v", err)
	}
}

func TestReconnectDelayKeepsConnectThrottle(t *testing.T) {
	s := &Subscriber{o: defaults()}
	if d := s.reconnectDelay(0); d != 0 {
		t.Errorf("first connect waits %v", d)
	}
	s.lastConnect = time.Now()
	for attempt := 0; attempt < 5; attempt++ {
		if d := s.reconnectDelay(attempt); d < 990*time.Millisecond {
			t.Errorf("attempt %d right after a CONNECT waits %v, want >= 1s", attempt, d)
		}
	}
	s.lastConnect = time.Now().Add(-time.Hour)
	if d := s.reconnectDelay(0); d != 0 {
		t.Errorf("reconnect long after the last CONNECT waits %v", d)
	}
	for attempt := 1; attempt < 20; attempt++ {
		if d := s.reconnectDelay(attempt); d < 500*time.Millisecond || d > 2*time.Minute {
			t.Errorf("attempt %d: %v outside the backoff range", attempt, d)
		}
	}
}

func TestLookupString(t *testing.T) {
	doc := []byte(`{"state":{"reported":{"topic":"A/B","a/b":"slash","t~":"tilde","n":1,"list":["x","y"]}}}`)
	for p, want := range map[string]string{
		"/state/reported/topic":  "A/B",
		"/state/reported/a~1b":   "slash",
		"/state/reported/t~0":    "tilde",
		"/state/reported/list/1": "y",
	} {
		if got, err := lookupString(doc, p); err != nil || got != want {
			t.Errorf("%s = %q, %v", p, got, err)
		}
	}
	for _, p := range []string{"/state/desired/topic", "/state/reported/n", "/state/reported/list/9", "/state/reported/topic/x", "state", "/a~2"} {
		if _, err := lookupString(doc, p); err == nil {
			t.Errorf("%s matched", p)
		}
	}
	if _, err := lookupString([]byte("nope"), "/a"); err == nil {
		t.Error("non-JSON matched")
	}
}

func FuzzLookupString(f *testing.F) {
	f.Add([]byte(`{"state":{"reported":{"topic":"A/B"}}}`), "/state/reported/topic")
	f.Add([]byte(`[1,"a"]`), "/1")
	f.Fuzz(func(t *testing.T, doc []byte, pointer string) {
		_, _ = lookupString(doc, pointer) // must not panic
	})
}

func TestOverlapDropsOnlySecondCopy(t *testing.T) {
	s := &Subscriber{}
	s.overlap = &overlap{old: "A", new: "A/B", seen: map[[32]byte]bool{}}
	p := &paho.Publish{Topic: "A/B/C", Payload: []byte(`{"vorgangsnummer":"1"}`)}
	if s.duplicate(p) || !s.duplicate(p) || s.duplicate(p) {
		t.Error("want first copy kept, second dropped, third kept")
	}
	oldOnly := &paho.Publish{Topic: "A/X", Payload: p.Payload}
	first, second := s.duplicate(oldOnly), s.duplicate(oldOnly)
	if first || second {
		t.Error("message under the old tree only was deduplicated")
	}
	s.overlap.until = time.Now().Add(-time.Second)
	if s.duplicate(p) || s.overlap != nil {
		t.Error("overlap outlived its grace period")
	}
}

func TestCoalescerFlushRunsPending(t *testing.T) {
	var mu sync.Mutex
	var got []string
	acks := 0
	c := newCoalescer(time.Hour, func(n *Notification, done func()) {
		mu.Lock()
		got = append(got, string(n.Raw))
		mu.Unlock()
		done()
	})
	ack := func() { mu.Lock(); acks++; mu.Unlock() }
	c.add(&Notification{Vorgangsnummer: "A", Raw: []byte("a1")}, ack)
	c.add(&Notification{Vorgangsnummer: "A", Raw: []byte("a2")}, ack)
	c.add(&Notification{Vorgangsnummer: "B", Raw: []byte("b1")}, ack)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.flush(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || acks != 3 {
		t.Fatalf("calls %v, acks %d", got, acks)
	}
	for _, g := range got {
		if g == "a1" {
			t.Error("older message won")
		}
	}
}
