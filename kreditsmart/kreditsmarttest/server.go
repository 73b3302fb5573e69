package kreditsmarttest

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"

	"github.com/notifykit/notifykit/internal/testpki"
)

// TopicPointer is where the fake's shadow documents keep the topic.
const TopicPointer = "/state/reported/topic"

// AWS IoT Core limits the fake enforces.
const (
	MaxSlashes      = 7
	MaxTopicBytes   = 256
	MaxPayloadBytes = 128 * 1024
)

// Server is the fake AWS IoT endpoint. Create it with NewServer in tests
// (it stops when the test ends) or with Start elsewhere (call Close).
type Server struct {
	t    testing.TB // nil for a server from Start
	log  *slog.Logger
	ca   *testpki.CA
	mqtt *mqtt.Server
	ln   *listeners.TCP

	mu       sync.Mutex
	policies map[string]*Policy               // by certificate common name
	identity map[*mqtt.Client]string          // connection -> common name
	shadows  map[string]*shadow               // by thing[/name]
	inSub    map[*mqtt.Client]map[string]bool // filters of a SUBSCRIBE being processed
	connects map[string][]time.Time           // CONNECT times per client id
	closed   bool
}

// Policy is what one device may do, like an AWS IoT policy attached to its
// certificate.
type Policy struct {
	// Topics are the partner trees the device may subscribe and receive:
	// T, T/# and any filter below T.
	Topics []string
	// Shadow allows the device's own shadow topics over MQTT (get, update
	// and their answers, update/documents). Without it, a shadow subscribe
	// closes the connection like any other policy violation.
	Shadow bool
	// RefuseWithSuback answers a SUBSCRIBE outside the policy with SUBACK
	// reason 0x87 (not authorized) instead of closing the connection. AWS
	// does not document which of the two MQTT 5 clients get; subscribers
	// must handle both.
	RefuseWithSuback bool
}

type shadow struct {
	doc     map[string]any
	version int
}

// Device is a registered client: its certificate (common name = Name) and
// the thing name of its shadow (also Name).
type Device struct {
	Name        string
	Certificate tls.Certificate
	CertPEM     []byte
	KeyPEM      []byte
}

// NewServer starts a fake on 127.0.0.1 with a fresh CA. It fails the test
// on setup errors and stops with t.Cleanup. The fake's log lines (closed
// connections and why) go to t unless WithLogger says otherwise.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := start(t, opts)
	if err != nil {
		t.Fatalf("kreditsmarttest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("kreditsmarttest: %v", err)
		}
	})
	return s
}

// Start is NewServer for code without a testing.TB (the notifykit CLI's
// sandbox, examples, local tools): it returns setup errors and the caller
// stops the fake with Close. Use CreateDevice and ReplaceShadow on it, which
// return errors, rather than AddDevice and SetShadow, which have no test to
// fail and panic instead.
func Start(opts ...Option) (*Server, error) { return start(nil, opts) }

func start(t testing.TB, opts []Option) (*Server, error) {
	var o options
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if o.log == nil && t == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	ca, err := testpki.NewCA(testpki.Options{CommonName: "kreditsmarttest CA"})
	if err != nil {
		return nil, err
	}
	cert, err := ca.Server()
	if err != nil {
		return nil, err
	}
	s := &Server{
		t: t, log: o.log, ca: ca,
		policies: map[string]*Policy{},
		identity: map[*mqtt.Client]string{},
		shadows:  map[string]*shadow{},
		inSub:    map[*mqtt.Client]map[string]bool{},
		connects: map[string][]time.Time{},
	}
	s.mqtt = mqtt.New(&mqtt.Options{
		InlineClient: true,
		Logger:       slog.New(slog.DiscardHandler),
	})
	s.mqtt.Options.Capabilities.MaximumClientWritesPending = 64 * 1024
	s.mqtt.Options.Capabilities.MaximumQos = 1
	if err := s.mqtt.AddHook(&hook{s: s}, nil); err != nil {
		return nil, err
	}
	s.ln = listeners.NewTCP(listeners.Config{ID: "aws-iot", Address: "127.0.0.1:0", TLSConfig: testpki.ServerTLS(cert, ca)})
	if err := s.mqtt.AddListener(s.ln); err != nil {
		return nil, err
	}
	if err := s.mqtt.Serve(); err != nil {
		// The listener is already bound; release it.
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// Close stops the broker and closes every client connection. It is safe to
// call more than once; NewServer registers it with t.Cleanup.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	// mochi-mqtt v2.7.9's own shutdown path (Clients.GetByListener) takes
	// the clients' read lock twice; a client disconnecting at that moment
	// queues a writer between the two and the broker deadlocks. So stop
	// accepting and drop the clients here, and let mochi's Close find the
	// listener already ended (it then skips that path).
	s.ln.Close(func(string) {})
	s.dropUntilEmpty()
	if err := s.mqtt.Close(); err != nil {
		return fmt.Errorf("kreditsmarttest: closing the broker: %w", err)
	}
	return nil
}

// logf logs to the logger from WithLogger, else to the test while it runs.
func (s *Server) logf(format string, args ...any) {
	if s.log != nil {
		s.log.Debug(fmt.Sprintf(format, args...))
		return
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if !closed {
		s.t.Logf(format, args...)
	}
}

// fail reports an error of a helper that has no error result: it fails the
// test, or panics on a server from Start, which has no test to fail.
func (s *Server) fail(err error) {
	if s.t == nil {
		panic(err)
	}
	s.t.Helper()
	s.t.Fatal(err)
}

// Endpoint is host:port of the MQTT listener.
func (s *Server) Endpoint() string { return s.ln.Address() }

// RootCAs trusts the fake's server certificate.
func (s *Server) RootCAs() *x509.CertPool { return s.ca.Pool() }

// CA is the fake's certificate authority, for tests that need more
// certificates (expired, other names).
func (s *Server) CA() *testpki.CA { return s.ca }

// AddDevice is CreateDevice for tests: it fails the test on error.
func (s *Server) AddDevice(name, topic string) *Device {
	if s.t != nil {
		s.t.Helper()
	}
	d, err := s.CreateDevice(name, topic)
	if err != nil {
		s.fail(err)
	}
	return d
}

// CreateDevice issues a client certificate with common name name, grants it
// topic (T, T/# and below) and its MQTT shadow topics, and creates its
// shadow with the topic at TopicPointer.
func (s *Server) CreateDevice(name, topic string) (*Device, error) {
	c, err := s.ca.Client(name)
	if err != nil {
		return nil, fmt.Errorf("kreditsmarttest: certificate for %q: %w", name, err)
	}
	s.SetPolicy(name, Policy{Topics: []string{topic}, Shadow: true})
	if err := s.ReplaceShadow(name, "", mustJSON(map[string]any{"state": map[string]any{"reported": map[string]any{"topic": topic}}})); err != nil {
		return nil, err
	}
	return &Device{Name: name, Certificate: c.TLSCertificate(), CertPEM: c.ChainPEM(), KeyPEM: c.KeyPEM()}, nil
}

// SetPolicy replaces the policy of the device with common name name. It
// applies to later SUBSCRIBEs and to every delivery.
func (s *Server) SetPolicy(name string, p Policy) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p.Topics = append([]string(nil), p.Topics...)
	s.policies[name] = &p
}

// MoveTopic restructures the partner tree for device name: the policy grants
// newTopic as well (the old topic stays granted, so messages in flight are
// not cut off), and the shadow's topic changes, which publishes
// update/documents.
func (s *Server) MoveTopic(name, newTopic string) {
	s.mu.Lock()
	if p := s.policies[name]; p != nil {
		// Policies are replaced, never changed in place: hooks read them
		// outside the lock.
		np := *p
		np.Topics = append(append([]string(nil), p.Topics...), newTopic)
		s.policies[name] = &np
	}
	s.mu.Unlock()
	// The document is built here and always valid.
	_ = s.ReplaceShadow(name, "", mustJSON(map[string]any{"state": map[string]any{"reported": map[string]any{"topic": newTopic}}}))
}

// SetShadow is ReplaceShadow for tests: it fails the test when doc is not
// a JSON object.
func (s *Server) SetShadow(thing, shadowName string, doc []byte) {
	if s.t != nil {
		s.t.Helper()
	}
	if err := s.ReplaceShadow(thing, shadowName, doc); err != nil {
		s.fail(err)
	}
}

// ReplaceShadow replaces the document of thing's shadow (classic when
// shadowName is empty), increments its version and publishes
// update/documents like AWS. doc is the state part and more, e.g.
// {"state":{"reported":{...}}}; anything but a JSON object is an error.
func (s *Server) ReplaceShadow(thing, shadowName string, doc []byte) error {
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		return fmt.Errorf("kreditsmarttest: shadow document: %w", err)
	}
	if m == nil {
		return errors.New("kreditsmarttest: shadow document: want a JSON object, got null")
	}
	key := prefix(thing, shadowName)
	s.mu.Lock()
	sh := s.shadows[key]
	var previous map[string]any
	if sh == nil {
		sh = &shadow{}
		s.shadows[key] = sh
	} else {
		previous = sh.snapshot()
	}
	sh.doc = m
	sh.version++
	current := sh.snapshot()
	s.mu.Unlock()
	if previous != nil {
		_ = s.publishRaw(key+"/update/documents", mustJSON(map[string]any{
			"previous": previous, "current": current, "timestamp": time.Now().Unix(),
		}))
	}
	return nil
}

// Shadow returns the current document of thing's shadow, as GetThingShadow
// would.
func (s *Server) Shadow(thing, shadowName string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh := s.shadows[prefix(thing, shadowName)]
	if sh == nil {
		return nil, false
	}
	return mustJSON(sh.snapshot()), true
}

func (sh *shadow) snapshot() map[string]any {
	out := map[string]any{}
	for k, v := range sh.doc {
		out[k] = v
	}
	out["version"] = sh.version
	out["timestamp"] = time.Now().Unix()
	return out
}

// ErrLimit is returned by Publish for topics or payloads over AWS's limits.
var ErrLimit = errors.New("kreditsmarttest: AWS IoT limit exceeded")

// Publish sends payload on topic (delivered at QoS 0, see publishRaw).
// Topics over 7 slashes or 256 bytes and payloads over 128 KB fail with
// ErrLimit, as they would at AWS.
func (s *Server) Publish(topic string, payload []byte) error {
	if strings.Count(topic, "/") > MaxSlashes || len(topic) > MaxTopicBytes || strings.ContainsAny(topic, "+#") || topic == "" {
		return fmt.Errorf("%w: topic %q", ErrLimit, topic)
	}
	if len(payload) > MaxPayloadBytes {
		return fmt.Errorf("%w: payload of %d bytes", ErrLimit, len(payload))
	}
	return s.publishRaw(topic, payload)
}

// publishRaw delivers at QoS 0. mochi v2.7.9 takes its in-flight map's
// read lock twice in Inflight.NextImmediate, which deadlocks against a
// concurrent QoS 1 delivery to the same client (its Inflight.Set); the
// fake therefore never puts messages in flight. AWS delivers at
// min(publisher QoS, subscription QoS) and Europace's publisher QoS is not
// documented, so QoS 0 deliveries are realistic; QoS 1 acknowledgement is
// tested against Mosquitto.
func (s *Server) publishRaw(topic string, payload []byte) error {
	return s.mqtt.Publish(topic, payload, false, 0)
}

// PublishNotification publishes a KEX-PUSH payload for vorgangsnummer with
// tree as kundenbetreuerPartnerbaum, on the topic Europace would use: the
// tree cut to 7 levels.
func (s *Server) PublishNotification(tree, vorgangsnummer string) error {
	return s.Publish(TopicFor(tree), Payload(vorgangsnummer, tree, time.Now()))
}

// TopicFor returns the topic Europace publishes tree on: tree itself, cut
// to its first 7 segments when deeper (AWS's depth limit).
func TopicFor(tree string) string {
	segs := strings.Split(tree, "/")
	if len(segs) > MaxSlashes {
		segs = segs[:MaxSlashes]
	}
	return strings.Join(segs, "/")
}

// Payload renders a KEX-PUSH payload as the vendor documents it.
func Payload(vorgangsnummer, tree string, sent time.Time) []byte {
	return mustJSON(map[string]string{
		"vorgangsnummer":            vorgangsnummer,
		"kundenbetreuerPartnerbaum": tree,
		"letztesAenderungsDatum":    sent.UTC().Format(time.RFC3339Nano),
		"quellsystem":               "KREDITSMART",
	})
}

// Drop closes every connection of clientID, like a network failure, and
// reports whether there was one.
func (s *Server) Drop(clientID string) bool {
	cl, ok := s.mqtt.Clients.Get(clientID)
	if !ok || cl.Closed() {
		return false
	}
	cl.Stop(errors.New("kreditsmarttest: dropped"))
	return true
}

// DropAll closes every client connection.
func (s *Server) DropAll() {
	for id, cl := range s.mqtt.Clients.GetAll() {
		if id != "inline" && !cl.Net.Inline {
			cl.Stop(errors.New("kreditsmarttest: dropped"))
		}
	}
}

// dropUntilEmpty stops every client and waits (bounded) until the broker
// has removed them, including one whose connection was accepted just
// before the listener closed.
func (s *Server) dropUntilEmpty() {
	for range 200 {
		s.DropAll()
		if s.mqtt.Clients.Len() <= 1 { // the inline client stays
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Connects returns how many CONNECTs clientID has sent.
func (s *Server) Connects(clientID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.connects[clientID])
}

// ConnectTimes returns when clientID sent its CONNECTs, for tests of the
// reconnect throttle (AWS IoT allows one CONNECT per second per client id).
func (s *Server) ConnectTimes(clientID string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.connects[clientID]...)
}

// Subscriptions returns the filters clientID holds now.
func (s *Server) Subscriptions(clientID string) []string {
	cl, ok := s.mqtt.Clients.Get(clientID)
	if !ok || cl.Closed() {
		return nil
	}
	var out []string
	for f := range cl.State.Subscriptions.GetAll() {
		out = append(out, f)
	}
	return out
}

func prefix(thing, shadowName string) string {
	p := "$aws/things/" + thing + "/shadow"
	if shadowName != "" {
		p += "/name/" + shadowName
	}
	return p
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
