package kreditsmart

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iotdataplane"
	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"

	"github.com/notifykit/notifykit"
)

// Subscriber receives KEX-PUSH notifications from AWS IoT Core over MQTT 5
// with mutual TLS. See the package documentation for the tour.
type Subscriber struct {
	host     string
	clientID string
	o        options
	prefix   string // shadow topic prefix; empty with a static topic
	tls      *tls.Config

	dataplane *iotdataplane.Client

	notify    notifykit.Handler // wrapped notification handler
	coalescer *coalescer
	generic   notifykit.Handler // receives lifecycle events too; may be nil
	onGap     func(context.Context, *Gap)
	onTopic   func(context.Context, *TopicChange)

	waitMu  sync.Mutex
	waiters map[string]chan shadowResult

	running atomic.Bool
	subMu   sync.Mutex // serialises resolution, SUBSCRIBE and UNSUBSCRIBE

	mu          sync.Mutex // guards everything below
	cm          *autopaho.ConnectionManager
	runCtx      context.Context
	gen         int                // connection generation, +1 per connection up
	connCancel  context.CancelFunc // ends work bound to the current connection
	up          bool               // connection is up
	shadowGen   int                // generation on which the shadow get topics are subscribed
	topic       Partnerbaum        // subscribed on the current connection; "" when not
	lastTopic   Partnerbaum        // last topic ever subscribed
	downSince   time.Time          // start of the current gap; zero when none
	downReason  string
	lastErr     error
	lastConnect time.Time
	pending     []string // filters of a SUBSCRIBE without SUBACK yet
	pendingAt   time.Time
	pendingTop  Partnerbaum
	drops       int                                // loop guard: drops right after SUBSCRIBE, in a row
	rejected    map[Partnerbaum]*SubscriptionError // topics given up on, with why
	overlap     *overlap

	fatal chan error
	work  sync.WaitGroup // handler goroutines
	bg    sync.WaitGroup // setup and watch goroutines
	sem   chan struct{}
	pool  bool
}

// NewSubscriber returns a subscriber for the AWS IoT data endpoint (host or
// host:port; host alone means WithPort's port, default 8883) under clientID,
// which must be unique per running process: AWS IoT keeps one connection per
// client id and disconnects the older one when another connects.
//
// Required: a client certificate (WithClientCertificate, ...Files or ...PEM)
// and a topic source: WithStaticTopic, or WithThing plus WithTopicPointer or
// WithTopicFunc. Register the handler with OnNotification or WithHandler
// before Run.
func NewSubscriber(endpoint, clientID string, opts ...Option) (*Subscriber, error) {
	o, err := apply(opts)
	if err != nil {
		return nil, err
	}
	host := endpoint
	if h, p, err := net.SplitHostPort(endpoint); err == nil {
		host = h
		if o.port, err = strconv.Atoi(p); err != nil || o.port < 1 || o.port > 65535 {
			return nil, configErr("endpoint %q has a bad port", endpoint)
		}
	}
	switch {
	case host == "":
		return nil, configErr("empty endpoint")
	case clientID == "" || len(clientID) > 128:
		return nil, configErr("client id must be 1..128 bytes")
	case o.cert == nil:
		return nil, configErr("no client certificate: use WithClientCertificate, WithClientCertificateFiles or WithClientCertificatePEM")
	case o.staticTopic == "" && o.thing == "":
		return nil, configErr("no topic source: use WithStaticTopic, or WithThing with WithTopicPointer or WithTopicFunc")
	case o.staticTopic != "" && o.thing != "":
		return nil, configErr("WithStaticTopic and WithThing exclude each other")
	case o.thing == "" && (o.shadowHTTPS || o.shadowName != "" || o.watchDocuments || o.rereadInterval > 0):
		return nil, configErr("shadow options need WithThing")
	case o.shadowHTTPS && o.watchDocuments:
		return nil, configErr("WithShadowHTTPS reads the shadow over HTTPS; watch it with a re-read interval instead of update/documents")
	}
	if o.staticTopic != "" {
		if _, err := filtersFor(o.staticTopic, o.subscribeParent); err != nil {
			return nil, configErr("%v", err)
		}
	}
	s := &Subscriber{
		host:     host,
		clientID: clientID,
		o:        o,
		tls:      tlsConfig(host, o.port, *o.cert, o.rootCAs, alpnMQTT),
		waiters:  make(map[string]chan shadowResult),
		rejected: make(map[Partnerbaum]*SubscriptionError),
	}
	if o.thing != "" {
		s.prefix = shadowPrefix(o.thing, o.shadowName)
	}
	if o.shadowHTTPS {
		s.newDataplane()
	}
	if o.handler != nil {
		s.generic = o.handler
		s.setNotify(o.handler)
	}
	return s, nil
}

func (s *Subscriber) setNotify(h notifykit.Handler) {
	s.notify = notifykit.Chain(h, s.o.middlewares...)
}

// OnNotification sets the typed handler for notifications, replacing the
// WithHandler handler for them. Call before Run.
func (s *Subscriber) OnNotification(f func(context.Context, *Notification) error) {
	s.setNotify(typed(f))
}

// OnGap is called after every reconnect with the interval in which nothing
// was received. Call before Run. The callback must not block for long.
func (s *Subscriber) OnGap(f func(context.Context, *Gap)) { s.onGap = f }

// OnTopicChange is called after the subscriber moved to a new topic. Call
// before Run.
func (s *Subscriber) OnTopicChange(f func(context.Context, *TopicChange)) { s.onTopic = f }

// Topic returns the topic subscribed right now ("" while disconnected).
func (s *Subscriber) Topic() Partnerbaum {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.topic
}

// Run connects, resolves the topic, subscribes and delivers notifications
// until ctx ends; then it disconnects, waits for running handlers and
// returns nil. It returns early with an error when going on cannot help:
// the TLS handshake failed for a certificate reason (*ConnectError), the
// topic cannot be resolved from the shadow (*TopicError), or the broker
// rejected the subscription of the only topic the shadow names
// (*SubscriptionError). Connection losses are not errors: the subscriber
// reconnects, resubscribes and reports a Gap.
func (s *Subscriber) Run(ctx context.Context) error {
	if s.notify == nil {
		return configErr("no handler: call OnNotification or use WithHandler")
	}
	if !s.running.CompareAndSwap(false, true) {
		return configErr("Run called twice")
	}
	defer s.running.Store(false)

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.fatal = make(chan error, 1)
	s.pool = s.o.concurrency > 1 || s.o.coalesce > 0
	if s.pool {
		s.sem = make(chan struct{}, s.o.concurrency)
	}
	if s.o.coalesce > 0 {
		s.coalescer = newCoalescer(s.o.coalesce, func(n *Notification, done func()) {
			s.sem <- struct{}{}
			s.work.Add(1)
			go func() {
				defer s.work.Done()
				s.handle(s.handlerCtx(), n)
				done()
				<-s.sem
			}()
		})
	}
	s.mu.Lock()
	s.runCtx = runCtx
	s.mu.Unlock()

	cm, err := autopaho.NewConnection(runCtx, s.clientConfig(runCtx, true))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrConfig, err)
	}
	s.mu.Lock()
	s.cm = cm
	s.mu.Unlock()
	if s.prefix != "" && s.o.rereadInterval > 0 {
		s.bg.Add(1)
		go s.reread(runCtx)
	}

	var result error
	select {
	case <-ctx.Done():
	case result = <-s.fatal:
	}
	cancel()
	<-cm.Done()
	s.bg.Wait()
	if s.coalescer != nil {
		// Pending batches are handled now, not dropped: their messages were
		// received, and the handler gets a live context for them.
		s.mu.Lock()
		s.runCtx = context.WithoutCancel(ctx)
		s.mu.Unlock()
		fctx, fcancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := s.coalescer.flush(fctx); err != nil {
			s.report(fmt.Errorf("%w: coalesced notifications still running at shutdown: %v", ErrHandler, err))
		}
		fcancel()
	}
	s.work.Wait()
	s.mu.Lock()
	s.cm, s.up, s.topic = nil, false, ""
	if s.connCancel != nil {
		s.connCancel()
		s.connCancel = nil
	}
	s.mu.Unlock()
	return result
}

// clientConfig builds the autopaho configuration. managed is false for the
// short-lived connection FetchShadow opens.
func (s *Subscriber) clientConfig(ctx context.Context, managed bool) autopaho.ClientConfig {
	u := &url.URL{Scheme: "mqtts", Host: net.JoinHostPort(s.host, strconv.Itoa(s.o.port))}
	receiveMax := s.o.receiveMax
	cfg := autopaho.ClientConfig{
		ServerUrls:       []*url.URL{u},
		TlsCfg:           s.tls.Clone(),
		KeepAlive:        uint16(s.o.keepAlive / time.Second),
		ConnectTimeout:   s.o.connectTO,
		ReconnectBackoff: s.reconnectDelay,
		ConnectPacketBuilder: func(cp *paho.Connect, _ *url.URL) (*paho.Connect, error) {
			s.mu.Lock()
			s.lastConnect = time.Now()
			s.mu.Unlock()
			// Europace stores nothing, so a persistent session buys nothing
			// and needs a policy grant: always start clean.
			cp.CleanStart = true
			if cp.Properties == nil {
				cp.Properties = &paho.ConnectProperties{}
			}
			cp.Properties.ReceiveMaximum = &receiveMax
			return cp, nil
		},
		OnConnectError: func(err error) { s.connectError(err) },
		ClientConfig: paho.ClientConfig{
			ClientID:                   s.clientID,
			OnPublishReceived:          []func(paho.PublishReceived) (bool, error){s.onPublish},
			OnClientError:              func(err error) { s.setLastErr(err) },
			OnServerDisconnect:         func(d *paho.Disconnect) { s.setLastErr(disconnectError(d)) },
			EnableManualAcknowledgment: managed && s.pool,
			SendAcksInterval:           s.o.ackInterval,
			PacketTimeout:              s.o.subscribeTO,
		},
	}
	if managed {
		cfg.OnConnectionUp = func(cm *autopaho.ConnectionManager, ca *paho.Connack) { s.connectionUp(ctx, cm) }
		cfg.OnConnectionDown = func() bool { s.connectionDown(); return true }
	}
	return cfg
}

// reconnectDelay is jittered exponential backoff that also keeps at least
// backoffMin between two CONNECTs of this client id (AWS IoT throttles
// CONNECT to one per second per client id).
func (s *Subscriber) reconnectDelay(attempt int) time.Duration {
	var d time.Duration
	if attempt > 0 {
		d = jittered(s.o.backoffMin, s.o.backoffMax, attempt)
	}
	s.mu.Lock()
	last := s.lastConnect
	s.mu.Unlock()
	if !last.IsZero() {
		if wait := s.o.backoffMin - time.Since(last); wait > d {
			d = wait + jitter(s.o.backoffMin/4)
		}
	}
	return d
}

func (s *Subscriber) setLastErr(err error) {
	s.mu.Lock()
	s.lastErr = err
	s.mu.Unlock()
}

func disconnectError(d *paho.Disconnect) error {
	reason := ""
	if d.Properties != nil {
		reason = d.Properties.ReasonString
	}
	return fmt.Errorf("server sent DISCONNECT reason 0x%02X %s", d.ReasonCode, reason)
}

func (s *Subscriber) report(err error) {
	s.o.logger.Error("kreditsmart: subscriber", "client", s.clientID, "err", err)
	s.o.onError(err)
}

func (s *Subscriber) fail(err error) {
	s.report(err)
	select {
	case s.fatal <- err:
	default:
	}
}

// connectError reports a failed attempt; certificate problems end Run.
func (s *Subscriber) connectError(err error) {
	s.mu.Lock()
	s.lastConnect = time.Now()
	s.mu.Unlock()
	ce := &ConnectError{Endpoint: s.host, Err: err}
	if permanentTLS(err) {
		ce.Permanent = true
		s.fail(ce)
		return
	}
	s.report(ce)
}

func (s *Subscriber) connectionUp(runCtx context.Context, cm *autopaho.ConnectionManager) {
	// Work for this connection (SUBSCRIBE, shadow get) ends with it: paho
	// does not always fail pending requests when the connection drops.
	ctx, cancel := context.WithCancel(runCtx)
	s.mu.Lock()
	// The CONNECT went out between the dial and now: measure the throttle
	// from here so that the broker never sees two within backoffMin.
	s.lastConnect = time.Now()
	s.gen++
	gen := s.gen
	s.up = true
	s.topic = ""
	if s.connCancel != nil {
		s.connCancel()
	}
	s.connCancel = cancel
	s.mu.Unlock()
	s.o.logger.Info("kreditsmart: connected", "client", s.clientID, "endpoint", s.host)
	// OnConnectionUp must not block: resolve and subscribe in the background.
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		s.setup(ctx, cm, gen)
	}()
}

func (s *Subscriber) connectionDown() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.up = false
	if s.connCancel != nil {
		s.connCancel()
		s.connCancel = nil
	}
	reason := "connection lost"
	if s.lastErr != nil {
		reason = s.lastErr.Error()
	}
	if s.topic != "" && s.downSince.IsZero() {
		s.downSince, s.downReason = time.Now(), reason
	}
	s.topic = ""
	s.overlap = nil
	if s.pending != nil {
		if time.Since(s.pendingAt) <= s.o.guardWindow {
			s.drops++
		} else {
			s.drops = 0
		}
		if s.drops >= s.o.guardDrops {
			se := &SubscriptionError{Filters: s.pending, Topic: s.pendingTop, Drops: s.o.guardDrops,
				Reason: fmt.Sprintf("the broker closed the connection right after SUBSCRIBE %d times in a row (AWS IoT's answer to a filter outside the policy); last: %s", s.o.guardDrops, reason)}
			s.rejected[se.Topic] = se
			s.drops = 0
			s.bg.Add(1)
			go func() { defer s.bg.Done(); s.report(se) }() // not under s.mu: OnError may call back
		}
		s.pending = nil
	}
	s.lastErr = nil
	s.o.logger.Warn("kreditsmart: connection lost", "client", s.clientID, "reason", reason)
}

// current reports whether gen is still the live connection.
func (s *Subscriber) current(gen int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gen == gen && s.up
}

// setup runs on every connection: resolve the topic, subscribe, report the
// gap. Shadow failures are retried with backoff while the connection lives.
func (s *Subscriber) setup(ctx context.Context, cm *autopaho.ConnectionManager, gen int) {
	s.subMu.Lock()
	defer s.subMu.Unlock()
	for attempt := 1; ; attempt++ {
		if ctx.Err() != nil || !s.current(gen) {
			return
		}
		topic, err := s.resolve(ctx, cm, gen)
		if err == nil {
			err = s.subscribeTopic(ctx, cm, gen, topic)
			if err == nil {
				return
			}
		}
		var te *TopicError
		var se *SubscriptionError
		switch {
		case errors.As(err, &te):
			s.fail(err)
			return
		case errors.As(err, &se) && se.Permanent:
			s.fail(err)
			return
		case errors.Is(err, errConnGone):
			return
		}
		s.report(err)
		if sleep(ctx, jittered(s.o.backoffMin, s.o.backoffMax, attempt)) != nil {
			return
		}
	}
}

var errConnGone = errors.New("connection gone")

// resolve returns the topic for this connection.
func (s *Subscriber) resolve(ctx context.Context, cm *autopaho.ConnectionManager, gen int) (Partnerbaum, error) {
	if s.prefix == "" {
		return s.o.staticTopic, nil
	}
	var doc []byte
	var err error
	if s.o.shadowHTTPS {
		doc, err = s.fetchShadowHTTPS(ctx)
	} else {
		if err = s.subscribeShadow(ctx, cm, gen); err != nil {
			return "", err
		}
		doc, err = s.fetchShadowMQTT(ctx, cm)
	}
	if err != nil {
		return "", err
	}
	return s.topicFrom(doc)
}

// subscribeShadow subscribes exactly get/accepted and get/rejected (and
// update/documents when watching) once per connection: no wildcards,
// because a restrictive policy grants topics one by one.
func (s *Subscriber) subscribeShadow(ctx context.Context, cm *autopaho.ConnectionManager, gen int) error {
	s.mu.Lock()
	done := s.shadowGen == gen
	s.mu.Unlock()
	if done {
		return nil
	}
	filters := []string{s.prefix + "/get/accepted", s.prefix + "/get/rejected"}
	if s.o.watchDocuments {
		filters = append(filters, s.prefix+"/update/documents")
	}
	if err := s.subscribe(ctx, cm, gen, "", filters); err != nil {
		var se *SubscriptionError
		if errors.As(err, &se) {
			se.Permanent = true
			se.Reason += "; if the policy does not allow the MQTT shadow topics, use WithShadowHTTPS"
		}
		return err
	}
	s.mu.Lock()
	s.shadowGen = gen
	s.mu.Unlock()
	return nil
}

// subscribe sends one SUBSCRIBE for filters and checks every reason code.
func (s *Subscriber) subscribe(ctx context.Context, cm *autopaho.ConnectionManager, gen int, topic Partnerbaum, filters []string) error {
	s.mu.Lock()
	if s.gen != gen || !s.up {
		s.mu.Unlock()
		return errConnGone
	}
	s.pending, s.pendingAt, s.pendingTop = filters, time.Now(), topic
	s.mu.Unlock()
	sub := &paho.Subscribe{}
	for _, f := range filters {
		// Never a subscription identifier: AWS IoT disconnects with 0xA1.
		sub.Subscriptions = append(sub.Subscriptions, paho.SubscribeOptions{Topic: f, QoS: s.o.qos})
	}
	sctx, cancel := context.WithTimeout(ctx, s.o.subscribeTO)
	defer cancel()
	ack, err := cm.Subscribe(sctx, sub)
	if ack != nil {
		for i, code := range ack.Reasons {
			if code >= 0x80 {
				s.mu.Lock()
				s.pending = nil
				s.mu.Unlock()
				f := ""
				if i < len(filters) {
					f = filters[i]
				}
				return &SubscriptionError{Filters: filters, Topic: topic, Code: code,
					Reason: fmt.Sprintf("SUBACK reason 0x%02X for %q", code, f)}
			}
		}
	}
	if err != nil {
		if !s.current(gen) || ctx.Err() != nil || errors.Is(err, autopaho.ConnectionDownError) || errors.Is(err, paho.ErrConnectionLost) {
			return errConnGone
		}
		return fmt.Errorf("%w: SUBSCRIBE %v: %v", ErrSubscriptionRejected, filters, err)
	}
	s.mu.Lock()
	if s.gen == gen {
		s.pending = nil
		if topic != "" {
			// Only the topic's SUBACK proves the loop is over; the shadow
			// topics are subscribed first on every connection.
			s.drops = 0
		}
	}
	s.mu.Unlock()
	return nil
}

// subscribeTopic subscribes topic's filters on a fresh connection and
// reports the gap that ends here.
func (s *Subscriber) subscribeTopic(ctx context.Context, cm *autopaho.ConnectionManager, gen int, topic Partnerbaum) error {
	s.mu.Lock()
	given := s.rejected[topic]
	s.mu.Unlock()
	if given != nil {
		final := *given
		final.Permanent = true
		if s.prefix != "" {
			final.Reason += "; the re-read shadow still names this topic"
		}
		return &final
	}
	filters, err := s.filters(topic)
	if err != nil {
		return err
	}
	if err := s.subscribe(ctx, cm, gen, topic, filters); err != nil {
		var se *SubscriptionError
		if errors.As(err, &se) {
			// A SUBACK refusal is as final as the disconnect loop: remember
			// it so that only a different topic from the shadow is tried.
			s.mu.Lock()
			s.rejected[topic] = se
			s.mu.Unlock()
			if s.prefix == "" {
				se.Permanent = true
			}
		}
		return err
	}
	now := time.Now()
	s.mu.Lock()
	if s.gen != gen {
		s.mu.Unlock()
		return errConnGone
	}
	s.topic = topic
	prev := s.lastTopic
	s.lastTopic = topic
	var gap *Gap
	if !s.downSince.IsZero() {
		gap = &Gap{Start: s.downSince, End: now, Reason: s.downReason, Topic: topic, Client: s.clientID}
		s.downSince, s.downReason = time.Time{}, ""
	}
	s.mu.Unlock()
	s.o.logger.Info("kreditsmart: subscribed", "client", s.clientID, "filters", filters)
	if gap != nil {
		s.emitGap(ctx, gap)
	}
	if prev != "" && prev != topic {
		s.emitTopicChange(ctx, &TopicChange{Old: prev, New: topic, At: now, Client: s.clientID})
	}
	return nil
}

// filters returns the SUBSCRIBE filters for topic, as shared subscriptions
// when configured.
func (s *Subscriber) filters(topic Partnerbaum) ([]string, error) {
	fs, err := filtersFor(topic, s.o.subscribeParent)
	if err != nil {
		return nil, &TopicError{Pointer: s.o.topicPointer, Reason: err.Error()}
	}
	if s.o.sharedGroup != "" {
		for i, f := range fs {
			fs[i] = "$share/" + s.o.sharedGroup + "/" + f
		}
	}
	return fs, nil
}

func (s *Subscriber) emitGap(ctx context.Context, g *Gap) {
	s.o.logger.Warn("kreditsmart: gap in notifications", "client", s.clientID, "start", g.Start, "end", g.End, "reason", g.Reason)
	if s.onGap != nil {
		s.onGap(ctx, g)
	}
	if s.generic != nil {
		if err := s.generic.HandleEvent(ctx, g); err != nil {
			s.report(fmt.Errorf("%w: gap event: %w", ErrHandler, err))
		}
	}
}

func (s *Subscriber) emitTopicChange(ctx context.Context, c *TopicChange) {
	s.o.logger.Info("kreditsmart: topic changed", "client", s.clientID, "old", c.Old, "new", c.New)
	if s.onTopic != nil {
		s.onTopic(ctx, c)
	}
	if s.generic != nil {
		if err := s.generic.HandleEvent(ctx, c); err != nil {
			s.report(fmt.Errorf("%w: topic change event: %w", ErrHandler, err))
		}
	}
}

// ConnectError reports a failed connection attempt. Permanent ones (the
// server's certificate is not trusted, the broker refused our client
// certificate) end Run: retrying cannot fix a certificate.
type ConnectError struct {
	Endpoint  string
	Permanent bool
	Err       error
}

// Error implements the error interface.
func (e *ConnectError) Error() string {
	s := "kreditsmart: connecting to " + e.Endpoint + " failed"
	if e.Permanent {
		s += " (certificate problem, not retried)"
	}
	return s + ": " + e.Err.Error()
}

// Unwrap returns the cause (a TLS, x509 or network error).
func (e *ConnectError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrConnect) true.
func (e *ConnectError) Is(target error) bool { return target == ErrConnect }

// SubscriptionError reports filters the broker refused, either by a SUBACK
// reason code of 0x80 or above (Code) or, as AWS IoT does, by closing the
// connection right after the SUBSCRIBE Drops times in a row. It matches
// ErrSubscriptionRejected. The subscriber stops resubscribing the topic and
// re-reads the shadow; Permanent is set when no other topic is available
// and Run ends with this error.
type SubscriptionError struct {
	Topic     Partnerbaum
	Filters   []string
	Code      byte
	Drops     int
	Permanent bool
	Reason    string
}

// Error implements the error interface.
func (e *SubscriptionError) Error() string {
	fs := make([]string, len(e.Filters))
	for i, f := range e.Filters {
		fs[i] = clip(f)
	}
	return fmt.Sprintf("kreditsmart: subscription to %v rejected: %s", fs, e.Reason)
}

// Is makes errors.Is(err, ErrSubscriptionRejected) true.
func (e *SubscriptionError) Is(target error) bool { return target == ErrSubscriptionRejected }

// permanentTLS reports certificate failures: an untrusted or mismatching
// server certificate, or the server's alert about ours.
func permanentTLS(err error) bool {
	var ua x509UnknownAuthority
	if errors.As(err, &ua.e) || errors.As(err, &ua.inv) || errors.As(err, &ua.host) || errors.As(err, &ua.verify) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "remote error" && strings.Contains(op.Err.Error(), "certificate") {
		return true
	}
	return strings.Contains(err.Error(), "remote error: tls:") && strings.Contains(err.Error(), "certificate")
}
