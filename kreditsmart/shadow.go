package kreditsmart

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iotdataplane"
	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"
)

// ShadowError reports a shadow request that failed: rejected by the shadow
// service (Code is its HTTP-like status, e.g. 404 when the shadow does not
// exist), timed out, or failed over HTTPS. It matches ErrShadow.
type ShadowError struct {
	Thing, Shadow string
	Code          int    // from the rejected document or HTTP status; 0 if none
	Message       string // from the rejected document or transport
	Err           error  // underlying cause, if any
}

// Error implements the error interface.
func (e *ShadowError) Error() string {
	name := e.Thing
	if e.Shadow != "" {
		name += " (shadow " + e.Shadow + ")"
	}
	s := "kreditsmart: reading device shadow of " + name + " failed"
	if e.Code != 0 {
		s += ": code " + strconv.Itoa(e.Code)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying cause.
func (e *ShadowError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrShadow) true.
func (e *ShadowError) Is(target error) bool { return target == ErrShadow }

// TopicError says why the topic could not be taken from the shadow and how
// to find out where it is. It matches ErrTopicUnresolved.
type TopicError struct {
	Pointer string // the configured pointer; empty with a TopicFunc or nothing configured
	Reason  string
}

// Error implements the error interface.
func (e *TopicError) Error() string {
	return "kreditsmart: topic could not be resolved from the device shadow: " + e.Reason +
		". The shadow's shape is not public: print it with Subscriber.FetchShadow(ctx) " +
		"and configure WithTopicPointer(\"/state/...\") or WithTopicFunc"
}

// Is makes errors.Is(err, ErrTopicUnresolved) true.
func (e *TopicError) Is(target error) bool { return target == ErrTopicUnresolved }

// shadowPrefix is $aws/things/{thing}/shadow[/name/{shadow}].
func shadowPrefix(thing, shadow string) string {
	p := "$aws/things/" + thing + "/shadow"
	if shadow != "" {
		p += "/name/" + shadow
	}
	return p
}

// shadowReply is what get/accepted, get/rejected and update/documents carry.
type shadowReply struct {
	ClientToken string          `json:"clientToken"`
	Code        int             `json:"code"`
	Message     string          `json:"message"`
	Current     json.RawMessage `json:"current"`
}

type shadowResult struct {
	doc []byte
	err error
}

func newToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// fetchShadowMQTT publishes get with a fresh clientToken and waits for the
// matching accepted/rejected answer. The caller has subscribed exactly the
// two response topics on this connection.
func (s *Subscriber) fetchShadowMQTT(ctx context.Context, cm *autopaho.ConnectionManager) ([]byte, error) {
	tok := newToken()
	ch := make(chan shadowResult, 1)
	s.waitMu.Lock()
	s.waiters[tok] = ch
	s.waitMu.Unlock()
	defer func() {
		s.waitMu.Lock()
		delete(s.waiters, tok)
		s.waitMu.Unlock()
	}()
	ctx, cancel := context.WithTimeout(ctx, s.o.shadowTimeout)
	defer cancel()
	body, _ := json.Marshal(map[string]string{"clientToken": tok})
	if _, err := cm.Publish(ctx, &paho.Publish{Topic: s.prefix + "/get", QoS: 1, Payload: body}); err != nil {
		return nil, &ShadowError{Thing: s.o.thing, Shadow: s.o.shadowName, Message: "publishing get", Err: err}
	}
	select {
	case r := <-ch:
		return r.doc, r.err
	case <-ctx.Done():
		return nil, &ShadowError{Thing: s.o.thing, Shadow: s.o.shadowName, Message: "no answer on get/accepted or get/rejected", Err: ctx.Err()}
	}
}

// onShadowReply routes a get/accepted or get/rejected message to its waiter.
func (s *Subscriber) onShadowReply(topic string, payload []byte) {
	var r shadowReply
	_ = json.Unmarshal(payload, &r)
	res := shadowResult{doc: append([]byte(nil), payload...)}
	if topic == s.prefix+"/get/rejected" {
		res = shadowResult{err: &ShadowError{Thing: s.o.thing, Shadow: s.o.shadowName, Code: r.Code, Message: clip(r.Message)}}
	}
	s.waitMu.Lock()
	defer s.waitMu.Unlock()
	if ch, ok := s.waiters[r.ClientToken]; ok {
		ch <- res
		delete(s.waiters, r.ClientToken)
		return
	}
	// Some shadow services do not echo the token: with a single waiter the
	// answer can only be for it.
	if r.ClientToken == "" && len(s.waiters) == 1 {
		for tok, ch := range s.waiters {
			ch <- res
			delete(s.waiters, tok)
		}
	}
}

// fetchShadowHTTPS calls GetThingShadow on the data endpoint over mutual TLS
// with the AWS SDK. Europace's certificates authenticate the call, so the
// SDK's SigV4 signing is switched off with anonymous credentials.
func (s *Subscriber) fetchShadowHTTPS(ctx context.Context) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, s.o.shadowTimeout)
	defer cancel()
	in := &iotdataplane.GetThingShadowInput{ThingName: aws.String(s.o.thing)}
	if s.o.shadowName != "" {
		in.ShadowName = aws.String(s.o.shadowName)
	}
	out, err := s.dataplane.GetThingShadow(ctx, in)
	if err != nil {
		se := &ShadowError{Thing: s.o.thing, Shadow: s.o.shadowName, Message: "GetThingShadow over HTTPS", Err: err}
		var re interface{ HTTPStatusCode() int }
		if errors.As(err, &re) {
			se.Code = re.HTTPStatusCode()
		}
		return nil, se
	}
	return out.Payload, nil
}

func (s *Subscriber) newDataplane() {
	endpoint := s.o.httpsEndpoint
	if endpoint == "" {
		endpoint = net.JoinHostPort(s.host, "8443")
	} else if _, _, err := net.SplitHostPort(endpoint); err != nil {
		endpoint = net.JoinHostPort(endpoint, "8443")
	}
	client := s.o.httpClient
	if client == nil {
		host, port, _ := net.SplitHostPort(endpoint)
		p, _ := strconv.Atoi(port)
		tc := tlsConfig(host, p, *s.o.cert, s.o.rootCAs, "x-amzn-http-ca")
		client = &http.Client{Transport: &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: false}, Timeout: s.o.shadowTimeout}
	}
	s.dataplane = iotdataplane.New(iotdataplane.Options{
		BaseEndpoint:     aws.String("https://" + endpoint),
		Region:           "eu-central-1", // unused without signing, but the SDK insists on one
		Credentials:      aws.AnonymousCredentials{},
		HTTPClient:       client,
		RetryMaxAttempts: 1, // the subscriber retries on its own schedule
	})
}

// topicFrom extracts the topic from a shadow document with the configured
// pointer or function.
func (s *Subscriber) topicFrom(doc []byte) (Partnerbaum, error) {
	var raw string
	var err error
	switch {
	case s.o.topicFunc != nil:
		raw, err = s.o.topicFunc(doc)
		if err != nil {
			return "", &TopicError{Reason: "TopicFunc: " + err.Error()}
		}
	case s.o.topicPointer != "":
		raw, err = lookupString(doc, s.o.topicPointer)
		if err != nil {
			return "", &TopicError{Pointer: s.o.topicPointer, Reason: err.Error()}
		}
	default:
		return "", &TopicError{Reason: "neither WithTopicPointer nor WithTopicFunc is configured"}
	}
	t := Partnerbaum(raw)
	if _, err := filtersFor(t, false); err != nil {
		return "", &TopicError{Pointer: s.o.topicPointer, Reason: fmt.Sprintf("value %q is not a usable topic (%v)", clip(raw), strings.TrimPrefix(err.Error(), ErrTopicUnresolved.Error()+": "))}
	}
	return t, nil
}
