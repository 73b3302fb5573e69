package banqup

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/notifykit/notifykit"
)

func TestCopyForQueue(t *testing.T) {
	d := &amqp.Delivery{
		ContentType: ContentTypeEnvelope, MessageId: "m1", CorrelationId: "c1", Expiration: "60000",
		UserId: "guest", Priority: 3, Body: []byte("body"),
		Headers: amqp.Table{"MT-Activity-Id": "00-abc", settleTagHeader: int64(9)},
	}
	cause := fmt.Errorf("store: %w", notifykit.Permanent(errors.New("db down")))
	p := copyForQueue(d, faultInfo{reason: reasonFault, err: cause, attempts: 3, inputAddr: "rabbitmq://h/q",
		messageType: StreamAccount.URN()}, hostHeaders())
	if string(p.Body) != "body" || p.MessageId != "m1" || p.CorrelationId != "c1" || p.Expiration != "" ||
		p.UserId != "" || p.Priority != 3 || p.DeliveryMode != amqp.Persistent || p.ContentType != ContentTypeEnvelope {
		t.Errorf("properties: %+v", p)
	}
	h := p.Headers
	if h["MT-Reason"] != "fault" || h["MT-Fault-RetryCount"] != int32(2) || h["MT-Activity-Id"] != "00-abc" ||
		!strings.Contains(h["MT-Fault-Message"].(string), "db down") || h["MT-Fault-InputAddress"] != "rabbitmq://h/q" ||
		h["MT-Fault-MessageType"] != StreamAccount.URN() || h["MT-Host-ProcessId"] == "" {
		t.Errorf("headers: %v", h)
	}
	if _, ok := h[settleTagHeader]; ok {
		t.Error("stale settle tag copied")
	}
	if _, err := time.Parse(time.RFC3339Nano, h["MT-Fault-Timestamp"].(string)); err != nil {
		t.Error(err)
	}
	if err := h.Validate(); err != nil {
		t.Errorf("headers are not valid AMQP: %v", err)
	}

	skipped := copyForQueue(d, faultInfo{reason: reasonDeadLetter, err: ErrNoHandler}, hostHeaders())
	if skipped.Headers["MT-Reason"] != "dead-letter" || skipped.Headers["MT-Fault-ExceptionType"] != nil {
		t.Errorf("skipped headers: %v", skipped.Headers)
	}
	long := copyForQueue(d, faultInfo{reason: reasonFault, err: errors.New(strings.Repeat("x", 100000))}, nil)
	if n := len(long.Headers["MT-Fault-Message"].(string)); n > maxFaultMessage+10 {
		t.Errorf("MT-Fault-Message is %d bytes", n)
	}
}

func TestExceptionType(t *testing.T) {
	cases := map[string]error{
		"notifykit.PanicError": &notifykit.PanicError{Value: "boom"},
		"banqup.DecodeError":   &DecodeError{Err: ErrMalformed},
		"*errors.errorString":  fmt.Errorf("wrap: %w", notifykit.Permanent(errors.New("x"))),
	}
	for want, err := range cases {
		if got := exceptionType(err); got != want {
			t.Errorf("exceptionType(%v) = %q, want %q", err, got, want)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	bad := []Option{
		WithLogger(nil), WithOnError(nil), WithOnStateChange(nil), WithHandler(nil), WithMiddleware(nil),
		WithRetry(0, nil), WithReconnectBackoff(nil), WithPrefetch(0), WithPrefetch(70000), WithConcurrency(0),
		WithStreams(), WithStreams("nope"), WithTLS(nil), WithHeartbeat(time.Millisecond),
		WithHandlerTimeout(0), WithShutdownTimeout(0), WithQueueArguments(amqp.Table{"x": struct{}{}}),
	}
	for i, o := range bad {
		if _, err := NewConsumer("amqp://localhost/", "q", o); err == nil {
			t.Errorf("bad option %d accepted", i)
		}
	}
	if _, err := NewConsumer("http://x", "q"); err == nil {
		t.Error("http URL accepted")
	}
	if _, err := NewConsumer("amqp://localhost/", " "); err == nil {
		t.Error("empty queue accepted")
	}
	c, err := NewConsumer("amqp://u:secret@rabbit:5673/prod", "app", WithPrefetch(4), WithConcurrency(50))
	if err != nil {
		t.Fatal(err)
	}
	if c.o.concurrency != 4 {
		t.Errorf("concurrency %d not capped at prefetch", c.o.concurrency)
	}
	if c.inputAddr != "rabbitmq://rabbit:5673/prod/app" {
		t.Errorf("input address %q", c.inputAddr)
	}
}
