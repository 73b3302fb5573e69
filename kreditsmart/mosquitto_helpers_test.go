package kreditsmart_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"

	"github.com/notifykit/notifykit/internal/brokertest"
	"github.com/notifykit/notifykit/internal/testpki"
	"github.com/notifykit/notifykit/kreditsmart"
)

// mosqEnv is a real Mosquitto with a TLS listener that requires client
// certificates, an ACL keyed by certificate common name, a publisher in
// Europace's role and a small shadow responder (Mosquitto has no shadow
// service).
type mosqEnv struct {
	broker   *brokertest.Broker
	ca       *testpki.CA
	endpoint string // host:port of the TLS listener
	europace *autopaho.ConnectionManager

	mu     sync.Mutex
	topics map[string]string // thing -> topic in its shadow
	ver    int
}

// mosqACL grants device "dev-m" two trees and its shadow answers, and
// "europace" everything.
const mosqACL = `user dev-m
topic read ECHTGESCHAEFT/ABC12/#
topic read ECHTGESCHAEFT/NEW77/#
topic read $aws/things/dev-m/shadow/get/accepted
topic read $aws/things/dev-m/shadow/get/rejected
topic read $aws/things/dev-m/shadow/update/documents
topic write $aws/things/dev-m/shadow/get

user bench
topic read BENCH/#

user europace
topic readwrite #
topic readwrite $aws/#
`

func newMosqEnv(t *testing.T, extra ...string) *mosqEnv {
	t.Helper()
	ca, err := testpki.NewCA(testpki.Options{CommonName: "mosquitto test CA"})
	if err != nil {
		t.Fatal(err)
	}
	srvCert, err := ca.Server()
	if err != nil {
		t.Fatal(err)
	}
	b := brokertest.Mosquitto(t, brokertest.MosquittoConfig{
		TLS: &brokertest.MosquittoTLS{CertPEM: srvCert.ChainPEM(), KeyPEM: srvCert.KeyPEM(), CAPEM: ca.RootPEM(),
			RequireCertificate: true, UseIdentityAsUsername: true},
		ACL:   mosqACL,
		Extra: extra,
	})
	u, err := url.Parse(b.TLSURL)
	if err != nil {
		t.Fatal(err)
	}
	e := &mosqEnv{broker: b, ca: ca, endpoint: u.Host, topics: map[string]string{}}
	e.europace = e.connect(t, "europace")
	return e
}

// connect opens an autopaho client with a certificate for cn; for
// "europace" it also answers shadow get requests.
func (e *mosqEnv) connect(t *testing.T, cn string) *autopaho.ConnectionManager {
	t.Helper()
	cert, err := e.ca.Client(cn)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(e.broker.TLSURL)
	ctx, cancel := context.WithCancel(context.Background())
	up := make(chan struct{}, 1)
	var cm *autopaho.ConnectionManager
	cfg := autopaho.ClientConfig{
		ServerUrls:       []*url.URL{u},
		TlsCfg:           testpki.ClientTLS(e.ca, cert),
		KeepAlive:        30,
		ReconnectBackoff: autopaho.NewConstantBackoff(50 * time.Millisecond),
		OnConnectionUp: func(cm *autopaho.ConnectionManager, _ *paho.Connack) {
			if cn == "europace" {
				go func() {
					_, _ = cm.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "$aws/things/+/shadow/get", QoS: 1}}})
					select {
					case up <- struct{}{}:
					default:
					}
				}()
				return
			}
			select {
			case up <- struct{}{}:
			default:
			}
		},
		ClientConfig: paho.ClientConfig{ClientID: cn + "-" + t.Name()},
	}
	if cn == "europace" {
		cfg.OnPublishReceived = []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			e.answerGet(ctx, cm, pr.Packet)
			return true, nil
		}}
	}
	cm, err = autopaho.NewConnection(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); <-cm.Done() })
	select {
	case <-up:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s could not connect to Mosquitto", cn)
	}
	return cm
}

func (e *mosqEnv) shadowDoc(thing string) map[string]any {
	return map[string]any{"state": map[string]any{"reported": map[string]any{"topic": e.topics[thing]}}, "version": e.ver}
}

// answerGet plays the shadow service for get requests.
func (e *mosqEnv) answerGet(ctx context.Context, cm *autopaho.ConnectionManager, p *paho.Publish) {
	thing := strings.TrimSuffix(strings.TrimPrefix(p.Topic, "$aws/things/"), "/shadow/get")
	var req struct {
		ClientToken string `json:"clientToken"`
	}
	_ = json.Unmarshal(p.Payload, &req)
	e.mu.Lock()
	_, ok := e.topics[thing]
	doc := e.shadowDoc(thing)
	e.mu.Unlock()
	prefix := "$aws/things/" + thing + "/shadow"
	topic := prefix + "/get/accepted"
	if !ok {
		topic, doc = prefix+"/get/rejected", map[string]any{"code": 404, "message": "No shadow exists"}
	}
	doc["clientToken"] = req.ClientToken
	body, _ := json.Marshal(doc)
	go func() { _, _ = cm.Publish(ctx, &paho.Publish{Topic: topic, QoS: 1, Payload: body}) }()
}

// setTopic changes thing's shadow and publishes update/documents.
func (e *mosqEnv) setTopic(t *testing.T, thing, topic string) {
	e.mu.Lock()
	prev := e.shadowDoc(thing)
	_, existed := e.topics[thing]
	e.topics[thing] = topic
	e.ver++
	cur := e.shadowDoc(thing)
	e.mu.Unlock()
	if !existed {
		return
	}
	body, _ := json.Marshal(map[string]any{"previous": prev, "current": cur, "timestamp": time.Now().Unix()})
	if _, err := e.europace.Publish(context.Background(), &paho.Publish{Topic: "$aws/things/" + thing + "/shadow/update/documents", QoS: 1, Payload: body}); err != nil {
		t.Errorf("publishing update/documents: %v", err)
	}
}

// publish sends a notification as Europace would (QoS 1).
func (e *mosqEnv) publish(ctx context.Context, topic string, payload []byte) error {
	_, err := e.europace.Publish(ctx, &paho.Publish{Topic: topic, QoS: 1, Payload: payload})
	return err
}

// subscriber builds a subscriber for device cn on this Mosquitto.
func (e *mosqEnv) subscriber(t *testing.T, cn string, rec *recorder, opts ...kreditsmart.Option) *kreditsmart.Subscriber {
	t.Helper()
	cert, err := e.ca.Client(cn)
	if err != nil {
		t.Fatal(err)
	}
	all := append([]kreditsmart.Option{
		kreditsmart.WithClientCertificate(cert.TLSCertificate()),
		kreditsmart.WithRootCAs(e.ca.Pool()),
		kreditsmart.WithOnError(rec.onError),
	}, fastOpts()...)
	all = append(all, opts...)
	s, err := kreditsmart.NewSubscriber(e.endpoint, cn, all...)
	if err != nil {
		t.Fatal(err)
	}
	rec.attach(s)
	return s
}
