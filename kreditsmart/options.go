package kreditsmart

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/notifykit/notifykit"
)

// Option configures a Subscriber or a WebhookHandler. Options validate their
// arguments; constructors return the first error, matching ErrConfig.
// Options that make sense for only one of the two say so and are ignored by
// the other.
type Option func(*options) error

type options struct {
	logger      *slog.Logger
	onError     func(error)
	handler     notifykit.Handler
	middlewares []notifykit.Middleware
	coalesce    time.Duration
	maxAttempts int
	retry       func(int) time.Duration
	concurrency int

	// webhook
	maxBody int64

	// subscriber: connection
	port        int
	cert        *tls.Certificate
	rootCAs     *x509.CertPool
	keepAlive   time.Duration
	qos         byte
	backoffMin  time.Duration
	backoffMax  time.Duration
	connectTO   time.Duration
	sharedGroup string
	guardDrops  int
	guardWindow time.Duration
	receiveMax  uint16
	ackInterval time.Duration
	subscribeTO time.Duration

	// subscriber: topic
	staticTopic     Partnerbaum
	thing           string
	shadowName      string
	topicPointer    string
	topicFunc       func(shadow []byte) (string, error)
	shadowHTTPS     bool
	httpsEndpoint   string
	httpClient      HTTPDoer
	watchDocuments  bool
	rereadInterval  time.Duration
	subscribeParent bool
	shadowTimeout   time.Duration
	overlapHold     time.Duration // tests: keep both filters subscribed this long
}

// HTTPDoer is the part of *http.Client the HTTPS shadow reader uses.
type HTTPDoer interface {
	Do(*http.Request) (*http.Response, error)
}

func defaults() options {
	return options{
		logger:        slog.New(slog.DiscardHandler),
		onError:       func(error) {},
		maxAttempts:   1,
		concurrency:   1,
		maxBody:       64 << 10,
		port:          8883,
		keepAlive:     60 * time.Second,
		qos:           1,
		backoffMin:    time.Second,
		backoffMax:    2 * time.Minute,
		connectTO:     10 * time.Second,
		guardDrops:    3,
		guardWindow:   10 * time.Second,
		receiveMax:    100,
		ackInterval:   2 * time.Millisecond,
		subscribeTO:   10 * time.Second,
		shadowTimeout: 10 * time.Second,
	}
}

func apply(opts []Option) (options, error) {
	o := defaults()
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return o, err
		}
	}
	return o, nil
}

func configErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return configErr("nil logger")
		}
		o.logger = l
		return nil
	}
}

// WithOnError receives asynchronous failures: malformed payloads
// (*PayloadError), handler failures (*HandlerError), connection and
// subscription problems. It must not block for long.
func WithOnError(f func(error)) Option {
	return func(o *options) error {
		if f == nil {
			return configErr("nil OnError")
		}
		o.onError = f
		return nil
	}
}

// WithHandler sets a generic handler. It receives every *Notification and,
// on a Subscriber, also *Gap and *TopicChange events (not coalesced).
// OnNotification replaces it for notifications.
func WithHandler(h notifykit.Handler) Option {
	return func(o *options) error {
		if h == nil {
			return configErr("nil handler")
		}
		o.handler = h
		return nil
	}
}

// WithMiddleware wraps the notification handler; the first listed is the
// outermost (see notifykit.Chain).
func WithMiddleware(mws ...notifykit.Middleware) Option {
	return func(o *options) error {
		o.middlewares = append(o.middlewares, mws...)
		return nil
	}
}

// WithCoalesce merges notifications for the same Vorgangsnummer arriving
// within window into one handler call with the latest of them (KreditSmart
// neither aggregates nor deduplicates; a notification means "re-read", so
// merging is safe). Every merged message is acknowledged only after the
// merged call returned. Zero turns coalescing off (the default).
//
// The Subscriber merges in arrival order before the middlewares run; the
// WebhookHandler merges concurrent requests inside the middlewares
// (notifykit.Coalesce), each request answered after the merged call.
func WithCoalesce(window time.Duration) Option {
	return func(o *options) error {
		if window < 0 {
			return configErr("negative coalesce window")
		}
		o.coalesce = window
		return nil
	}
}

// WithRetry calls the handler up to maxAttempts times, waiting
// backoff(attempt) between attempts (attempt 1 is the first retry). Errors
// marked notifykit.Permanent are not retried. Default: one attempt.
func WithRetry(maxAttempts int, backoff func(attempt int) time.Duration) Option {
	return func(o *options) error {
		if maxAttempts < 1 || (maxAttempts > 1 && backoff == nil) {
			return configErr("retry needs maxAttempts >= 1 and a backoff")
		}
		o.maxAttempts, o.retry = maxAttempts, backoff
		return nil
	}
}

// WithConcurrency lets the Subscriber run up to n handler calls at once
// (default 1: messages are handled one after another in arrival order).
// Acknowledgements are still sent in arrival order, as MQTT requires.
func WithConcurrency(n int) Option {
	return func(o *options) error {
		if n < 1 || n > 65535 {
			return configErr("concurrency %d out of range 1..65535", n)
		}
		o.concurrency = n
		return nil
	}
}

// WithMaxBodyBytes limits webhook bodies (default 64 KiB); larger requests
// get 413. WebhookHandler only.
func WithMaxBodyBytes(n int64) Option {
	return func(o *options) error {
		if n < 1 {
			return configErr("body limit must be positive")
		}
		o.maxBody = n
		return nil
	}
}

// WithClientCertificate sets the Europace-issued client certificate (with
// its key) for mutual TLS. Subscriber only; required unless
// WithClientCertificateFiles is used.
func WithClientCertificate(cert tls.Certificate) Option {
	return func(o *options) error {
		if len(cert.Certificate) == 0 || cert.PrivateKey == nil {
			return configErr("client certificate without certificate or key")
		}
		o.cert = &cert
		return nil
	}
}

// WithClientCertificateFiles loads the client certificate and key from PEM
// files. Subscriber only.
func WithClientCertificateFiles(certFile, keyFile string) Option {
	return func(o *options) error {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return configErr("client certificate: %v", err)
		}
		o.cert = &cert
		return nil
	}
}

// WithClientCertificatePEM parses the client certificate and key from PEM
// bytes. Subscriber only.
func WithClientCertificatePEM(certPEM, keyPEM []byte) Option {
	return func(o *options) error {
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return configErr("client certificate: %v", err)
		}
		o.cert = &cert
		return nil
	}
}

// WithRootCAs replaces the server trust anchors (default: the system pool
// plus Amazon Root CA 1 and 3). Tests use it to trust their own CA.
func WithRootCAs(pool *x509.CertPool) Option {
	return func(o *options) error {
		if pool == nil {
			return configErr("nil root pool")
		}
		o.rootCAs = pool
		return nil
	}
}

// WithRootCAFile adds the PEM certificates in file to the default trust
// anchors.
func WithRootCAFile(file string) Option {
	return func(o *options) error {
		pem, err := os.ReadFile(file)
		if err != nil {
			return configErr("root CA file: %v", err)
		}
		pool := o.rootCAs
		if pool == nil {
			pool = defaultRoots()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return configErr("root CA file %s holds no PEM certificate", file)
		}
		o.rootCAs = pool
		return nil
	}
}

// WithPort sets the MQTT port: 8883 (default) or 443, which turns on the
// ALPN protocol x-amzn-mqtt-ca as AWS IoT requires. Other ports are allowed
// for test brokers.
func WithPort(port int) Option {
	return func(o *options) error {
		if port < 1 || port > 65535 {
			return configErr("port %d out of range", port)
		}
		o.port = port
		return nil
	}
}

// WithKeepAlive sets the MQTT keep-alive, 30 s to 1200 s (AWS IoT's range);
// default 60 s.
func WithKeepAlive(d time.Duration) Option {
	return func(o *options) error {
		if d < 30*time.Second || d > 1200*time.Second {
			return configErr("keep-alive %v outside 30s..1200s", d)
		}
		o.keepAlive = d
		return nil
	}
}

// WithQoS sets the subscription QoS, 0 or 1 (default 1). AWS IoT has no
// QoS 2.
func WithQoS(qos int) Option {
	return func(o *options) error {
		if qos != 0 && qos != 1 {
			return configErr("QoS %d: AWS IoT supports 0 and 1", qos)
		}
		o.qos = byte(qos)
		return nil
	}
}

// WithReconnectBackoff sets the jittered exponential reconnect delay between
// min and max. min is also the least time between two CONNECTs of this
// client: the default of 1 s is AWS IoT's CONNECT throttle per client id;
// tests lower it to run fast.
func WithReconnectBackoff(min, max time.Duration) Option {
	return func(o *options) error {
		if min <= 0 || max < min {
			return configErr("reconnect backoff needs 0 < min <= max")
		}
		o.backoffMin, o.backoffMax = min, max
		return nil
	}
}

// WithSharedSubscription subscribes through the MQTT 5 shared subscription
// $share/group/... so that several instances split the messages. Every
// instance needs its own client id: AWS IoT keeps one connection per
// client id and disconnects the older one when a second connects, so two
// instances sharing an id evict each other in a loop.
func WithSharedSubscription(group string) Option {
	return func(o *options) error {
		if group == "" || containsAny(group, "/+#") {
			return configErr("shared subscription group %q must be non-empty without / + #", group)
		}
		o.sharedGroup = group
		return nil
	}
}

// WithLoopGuard sets when the subscriber gives up on a filter: drops
// connection losses, each within window after a SUBSCRIBE, in a row
// (default 3 within 10 s). AWS IoT answers a SUBSCRIBE outside the policy
// by closing the connection, so resubscribing blindly loops forever.
func WithLoopGuard(drops int, window time.Duration) Option {
	return func(o *options) error {
		if drops < 1 || window <= 0 {
			return configErr("loop guard needs drops >= 1 and a positive window")
		}
		o.guardDrops, o.guardWindow = drops, window
		return nil
	}
}

// WithStaticTopic subscribes under a fixed Partnerbaum instead of reading
// it from the device shadow. Not combinable with WithThing.
func WithStaticTopic(topic string) Option {
	return func(o *options) error {
		p, err := ParsePartnerbaum(topic)
		if err != nil {
			return configErr("%v", err)
		}
		o.staticTopic = p
		return nil
	}
}

// WithThing reads the topic from the device shadow of thing (classic
// shadow; see WithShadowName). The thing name is often the client id, but
// Europace does not document it. Requires WithTopicPointer or WithTopicFunc.
func WithThing(thing string) Option {
	return func(o *options) error {
		if thing == "" || len(thing) > 128 || containsAny(thing, "/+#") {
			return configErr("thing name %q must be 1..128 bytes without / + #", clip(thing))
		}
		o.thing = thing
		return nil
	}
}

// WithShadowName selects a named shadow instead of the classic one.
func WithShadowName(name string) Option {
	return func(o *options) error {
		if name == "" || len(name) > 64 || containsAny(name, "/+#") {
			return configErr("shadow name %q must be 1..64 bytes without / + #", clip(name))
		}
		o.shadowName = name
		return nil
	}
}

// WithTopicPointer locates the topic in the shadow document by an RFC 6901
// JSON pointer such as "/state/reported/topic". Europace does not publish
// the shadow's shape: print it once with Subscriber.FetchShadow to find the
// field.
func WithTopicPointer(pointer string) Option {
	return func(o *options) error {
		if _, err := parsePointer(pointer); err != nil {
			return configErr("%v", err)
		}
		o.topicPointer, o.topicFunc = pointer, nil
		return nil
	}
}

// WithTopicFunc extracts the topic from the raw shadow document.
func WithTopicFunc(f func(shadow []byte) (string, error)) Option {
	return func(o *options) error {
		if f == nil {
			return configErr("nil topic func")
		}
		o.topicFunc, o.topicPointer = f, ""
		return nil
	}
}

// WithShadowHTTPS reads the shadow over HTTPS (GetThingShadow on port 8443
// with the same client certificate) instead of the MQTT shadow topics, for
// policies that do not allow those. endpoint is host or host:port; empty
// means the MQTT endpoint on port 8443. client may be nil (an mTLS client is
// built); a caller-supplied client must present the certificate itself.
func WithShadowHTTPS(endpoint string, client HTTPDoer) Option {
	return func(o *options) error {
		o.shadowHTTPS, o.httpsEndpoint, o.httpClient = true, endpoint, client
		return nil
	}
}

// WithWatchShadow follows topic changes: it subscribes the shadow's
// update/documents topic (when documents is true; the policy must allow it)
// and re-reads the shadow every interval (0: no periodic re-read).
func WithWatchShadow(documents bool, interval time.Duration) Option {
	return func(o *options) error {
		if interval < 0 {
			return configErr("negative re-read interval")
		}
		o.watchDocuments, o.rereadInterval = documents, interval
		return nil
	}
}

// WithSubscribeParent also subscribes the bare topic T next to T/#, because
// AWS IoT's # does not match the parent level. Off by default: the filter
// must be inside the policy or AWS closes the connection.
func WithSubscribeParent() Option {
	return func(o *options) error { o.subscribeParent = true; return nil }
}

// WithTimeouts sets how long to wait for CONNACK, for SUBACK/UNSUBACK and
// for a shadow answer (defaults 10 s each).
func WithTimeouts(connect, subscribe, shadow time.Duration) Option {
	return func(o *options) error {
		if connect <= 0 || subscribe <= 0 || shadow <= 0 {
			return configErr("timeouts must be positive")
		}
		o.connectTO, o.subscribeTO, o.shadowTimeout = connect, subscribe, shadow
		return nil
	}
}

// WithReceiveMaximum bounds the unacknowledged QoS 1 messages the broker
// may send at once (default 100, AWS IoT's in-flight limit).
func WithReceiveMaximum(n int) Option {
	return func(o *options) error {
		if n < 1 || n > 65535 {
			return configErr("receive maximum %d out of range", n)
		}
		o.receiveMax = uint16(n)
		return nil
	}
}

func containsAny(s, chars string) bool {
	for _, c := range chars {
		for _, r := range s {
			if r == c {
				return true
			}
		}
	}
	return false
}
