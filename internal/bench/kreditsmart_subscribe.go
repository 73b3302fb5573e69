package main

// Scenario kreditsmart-subscribe: kreditsmart.Subscriber against a raw
// paho.golang client on the same Mosquitto (TLS with client certificates,
// as AWS IoT), each receiving 50,000 QoS 1 KEX-PUSH notifications. The rate
// is notifications handled per second, from the first to the last receipt.
//
// Setup publishes the notifications once, retained, each on its own topic
// under the subscribed tree, so every run drains all 50,000 from the broker
// as fast as the subscriber takes them: the measurement is the subscriber's
// throughput, not the publisher's. (AWS IoT would not send retained
// messages to a wildcard subscription; Mosquitto does, which is what makes
// it a repeatable load here.)

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"

	"github.com/notifykit/notifykit/internal/brokertest"
	"github.com/notifykit/notifykit/internal/testpki"
	"github.com/notifykit/notifykit/kreditsmart"
)

const (
	ksMessages   = 50000
	ksTopic      = "ECHTGESCHAEFT/BENCH1"
	ksPublishers = 16
)

// ksEnv is the broker, PKI and publisher shared by both sides.
type ksEnv struct {
	broker *brokertest.Broker
	ca     *testpki.CA
	url    *url.URL
	pub    *autopaho.ConnectionManager
	cancel context.CancelFunc
	seq    atomic.Int64
}

func init() {
	Register(Scenario[*ksEnv]{
		Name:        "kreditsmart-subscribe",
		Description: "kreditsmart.Subscriber vs raw paho.golang on the same Mosquitto (mTLS), 50,000 QoS 1 notifications",
		Setup:       setupKreditsmartSubscribe,
		SDK: func(ctx context.Context, e *ksEnv) (Result, error) {
			n, d, err := e.runSDK(ctx)
			return Result{Count: n, Duration: d}, err
		},
		Baseline: func(ctx context.Context, e *ksEnv) (Result, error) {
			n, d, err := e.runBaseline(ctx)
			return Result{Count: n, Duration: d}, err
		},
	})
}

// setupKreditsmartSubscribe starts the shared Mosquitto and publisher.
func setupKreditsmartSubscribe(ctx context.Context) (*ksEnv, func(), error) {
	ca, err := testpki.NewCA(testpki.Options{CommonName: "bench CA"})
	if err != nil {
		return nil, nil, err
	}
	srv, err := ca.Server()
	if err != nil {
		return nil, nil, err
	}
	b, err := brokertest.StartMosquitto(ctx, brokertest.MosquittoConfig{
		TLS: &brokertest.MosquittoTLS{CertPEM: srv.ChainPEM(), KeyPEM: srv.KeyPEM(), CAPEM: ca.RootPEM(), RequireCertificate: true},
		// Never drop for a slow subscriber: both sides must see all 50,000.
		Extra: []string{"max_queued_messages 0", "max_inflight_messages 0"},
	})
	if err != nil {
		return nil, nil, err
	}
	u, _ := url.Parse(b.TLSURL)
	e := &ksEnv{broker: b, ca: ca, url: u}
	pctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	if e.pub, err = e.client(pctx, "europace-bench", nil); err != nil {
		cancel()
		_ = b.Close()
		return nil, nil, err
	}
	if err := e.publishAll(ctx); err != nil {
		cancel()
		<-e.pub.Done()
		_ = b.Close()
		return nil, nil, fmt.Errorf("publishing the retained notifications: %w", err)
	}
	cleanup := func() {
		cancel()
		<-e.pub.Done()
		_ = b.Close()
	}
	return e, cleanup, nil
}

// client connects an autopaho client with a certificate for cn.
func (e *ksEnv) client(ctx context.Context, cn string, onPublish func(paho.PublishReceived) (bool, error)) (*autopaho.ConnectionManager, error) {
	cert, err := e.ca.Client(cn)
	if err != nil {
		return nil, err
	}
	cfg := autopaho.ClientConfig{
		ServerUrls: []*url.URL{e.url},
		TlsCfg:     testpki.ClientTLS(e.ca, cert),
		KeepAlive:  60,
		ClientConfig: paho.ClientConfig{
			ClientID: cn,
		},
	}
	if onPublish != nil {
		cfg.OnPublishReceived = []func(paho.PublishReceived) (bool, error){onPublish}
	}
	cm, err := autopaho.NewConnection(ctx, cfg)
	if err != nil {
		return nil, err
	}
	actx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := cm.AwaitConnection(actx); err != nil {
		return nil, err
	}
	return cm, nil
}

// publishAll sends ksMessages notifications under ksTopic from several
// goroutines (QoS 1, each waiting for its PUBACK, as a real publisher does).
func (e *ksEnv) publishAll(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make(chan error, ksPublishers)
	per := ksMessages / ksPublishers
	for p := 0; p < ksPublishers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				n := e.seq.Add(1)
				tree := ksTopic + "/P" + strconv.Itoa(int(n%50)) + "/K" + strconv.Itoa(int(n))
				payload := fmt.Appendf(nil, `{"vorgangsnummer":"VN%d","kundenbetreuerPartnerbaum":%q,"letztesAenderungsDatum":%q,"quellsystem":"KREDITSMART"}`,
					n, tree, time.Now().UTC().Format(time.RFC3339Nano))
				if _, err := e.pub.Publish(ctx, &paho.Publish{Topic: tree, QoS: 1, Retain: true, Payload: payload}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// receive waits for all retained notifications counted by count; the
// duration is from the first receipt to the last.
func receive(ctx context.Context, e *ksEnv, count *atomic.Int64, first, last *atomic.Int64) (int, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	want := int64(ksMessages / ksPublishers * ksPublishers)
	for count.Load() < want {
		if ctx.Err() != nil {
			return 0, 0, fmt.Errorf("received %d of %d: %w", count.Load(), want, ctx.Err())
		}
		time.Sleep(2 * time.Millisecond)
	}
	d := time.Duration(last.Load() - first.Load())
	if d <= 0 {
		return 0, 0, errors.New("no time elapsed")
	}
	return int(want), d, nil
}

func stamp(count, first, last *atomic.Int64) {
	now := time.Now().UnixNano()
	if count.Add(1) == 1 {
		first.Store(now)
	}
	last.Store(now)
}

// runSDK measures kreditsmart.Subscriber with its defaults (handler one at
// a time, ack after the handler).
func (e *ksEnv) runSDK(ctx context.Context) (int, time.Duration, error) {
	cert, err := e.ca.Client("kreditsmart-sdk")
	if err != nil {
		return 0, 0, err
	}
	var count, first, last atomic.Int64
	sub, err := kreditsmart.NewSubscriber(e.url.Host, "kreditsmart-sdk",
		kreditsmart.WithClientCertificate(cert.TLSCertificate()),
		kreditsmart.WithRootCAs(e.ca.Pool()),
		kreditsmart.WithStaticTopic(ksTopic))
	if err != nil {
		return 0, 0, err
	}
	sub.OnNotification(func(_ context.Context, n *kreditsmart.Notification) error {
		stamp(&count, &first, &last)
		return nil
	})
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- sub.Run(rctx) }()
	defer func() { cancel(); <-done }()
	for sub.Topic() == "" {
		select {
		case err := <-done:
			return 0, 0, err
		case <-time.After(5 * time.Millisecond):
		}
	}
	return receive(ctx, e, &count, &first, &last)
}

// runBaseline measures a raw paho.golang client: same TLS, same filter,
// QoS 1, decoding the same JSON into the same kind of struct, automatic
// acknowledgement after the callback.
func (e *ksEnv) runBaseline(ctx context.Context) (int, time.Duration, error) {
	var count, first, last atomic.Int64
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cm, err := e.client(cctx, "raw-paho", func(pr paho.PublishReceived) (bool, error) {
		if _, err := kreditsmart.Decode(pr.Packet.Payload); err == nil {
			stamp(&count, &first, &last)
		}
		return true, nil
	})
	if err != nil {
		return 0, 0, err
	}
	defer func() { cancel(); <-cm.Done() }()
	if _, err := cm.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: ksTopic + "/#", QoS: 1}}}); err != nil {
		return 0, 0, err
	}
	return receive(ctx, e, &count, &first, &last)
}
