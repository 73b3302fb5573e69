package banqup_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/notifykit/notifykit"
	"github.com/notifykit/notifykit/banqup"
	"github.com/notifykit/notifykit/banqup/banquptest"
)

// txPayload is a transaction whose id and account make each message
// distinct and spread over a few entities.
func txPayload(i int) []byte {
	return fmt.Appendf(nil, `{"data":{"id":"tx-%d","amount":"%d.15","currency":"PLN","status":"booked"},`+
		`"embedded":{"account":{"id":%d,"iban":"PL27114020040000300201355387"},"user":{"id":"u","businessContext":"individual"}},`+
		`"meta":{"buildId":"1","containerId":"c","operation":"created","initiator":"backgroundTask","timestamp":"2021-01-05T12:05:19.876Z"}}`,
		i, i, i%17+1)
}

func txPayloads(from, n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = txPayload(from + i)
	}
	return out
}

func TestFailingHandlersGoToErrorQueue(t *testing.T) {
	b := rabbit(t)
	queue := uniqueQueue(t)
	watch, states := stateWatcher()
	handled := newIDSet()
	attempts := newIDSet()
	var reported []error
	var mu = make(chan struct{}, 1)
	c, err := banqup.NewConsumer(b.URL, queue, watch,
		banqup.WithRetry(3, func(int) time.Duration { return time.Millisecond }),
		banqup.WithOnError(func(err error) {
			mu <- struct{}{}
			reported = append(reported, err)
			<-mu
		}))
	if err != nil {
		t.Fatal(err)
	}
	c.OnTransaction(func(_ context.Context, e *banqup.TransactionEvent) error {
		n, _ := strconv.Atoi(strings.TrimPrefix(e.Message.Data.ID, "tx-"))
		attempts.add(e.Message.Data.ID)
		switch {
		case n%20 == 0:
			return fmt.Errorf("account %d: %w", n, errFlaky) // always fails: retried, then Q_error
		case n%40 == 10:
			return notifykit.Permanent(errFlaky) // fails once, no retry
		case n%40 == 30:
			panic(errFlaky) // a panic is a failure like any other
		case n%10 == 3 && attempts.count(e.Message.Data.ID) == 1:
			return errFlaky // transient: the retry succeeds
		}
		handled.add(e.Message.Data.ID)
		return nil
	})
	stop := run(t, c)
	waitState(t, states, banqup.StateConsuming)

	const total = 1000
	p := publisher(t, b.URL)
	ids, err := p.PublishMany(context.Background(), banqup.StreamTransaction, txPayloads(0, total))
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "handled + moved = published", func() bool {
		return handled.len() == total*9/10 && queueDepth(t, b.URL, queue+"_error") == total/10
	})
	stop()

	moved := drain(t, b.URL, queue+"_error")
	byID := map[string]amqp.Delivery{}
	for _, d := range moved {
		byID[d.MessageId] = d
	}
	for i, id := range ids {
		txID := fmt.Sprintf("tx-%d", i)
		failing := i%20 == 0 || i%20 == 10
		if !failing {
			if !handled.has(txID) {
				t.Errorf("%s not handled", txID)
			}
			continue
		}
		d, ok := byID[id]
		if !ok {
			t.Errorf("%s (%s) missing from %s_error", txID, id, queue)
			continue
		}
		if d.ContentType != banqup.ContentTypeEnvelope || !bytes.Contains(d.Body, []byte(`"tx-`+strconv.Itoa(i)+`"`)) {
			t.Errorf("%s: body or properties not preserved: %s %.80s", txID, d.ContentType, d.Body)
		}
		h := func(k string) string { v, _ := (&banqup.Delivery{Headers: d.Headers}).HeaderString(k); return v }
		if i%40 == 30 && (h("MT-Fault-ExceptionType") != "notifykit.PanicError" || !strings.Contains(h("MT-Fault-StackTrace"), "goroutine")) {
			t.Errorf("%s: panic not recorded: %v", txID, d.Headers)
		}
		if h("MT-Reason") != "fault" || !strings.Contains(h("MT-Fault-Message"), "flaky handler") ||
			h("MT-Fault-ExceptionType") == "" || h("MT-Host-MachineName") == "" || h("MT-Host-ProcessId") == "" ||
			h("MT-Fault-MessageType") != banqup.StreamTransaction.URN() || h("MT-Fault-InputAddress") == "" {
			t.Errorf("%s: fault headers %v", txID, d.Headers)
		}
		if _, err := time.Parse(time.RFC3339Nano, h("MT-Fault-Timestamp")); err != nil {
			t.Errorf("%s: MT-Fault-Timestamp %q", txID, h("MT-Fault-Timestamp"))
		}
		wantRetries := "2"
		if i%40 == 10 {
			wantRetries = ""
		}
		if got, _ := (&banqup.Delivery{Headers: d.Headers}).HeaderString("MT-Fault-RetryCount"); got != wantRetries {
			t.Errorf("%s: MT-Fault-RetryCount %q, want %q", txID, got, wantRetries)
		}
		if h("MT-Activity-Id") == "" {
			t.Errorf("%s: original headers dropped", txID)
		}
	}
	if len(moved) != total/10 {
		t.Errorf("%d messages in error queue, want %d", len(moved), total/10)
	}
	for i := 3; i < total; i += 10 {
		if n := attempts.count(fmt.Sprintf("tx-%d", i)); n != 2 {
			t.Errorf("transiently failing tx-%d ran %d times, want 2", i, n)
		}
	}
	if n := queueDepth(t, b.URL, queue); n != 0 {
		t.Errorf("%d left in queue", n)
	}
	var herr *banqup.HandlerError
	count := 0
	for _, err := range reported {
		if errors.As(err, &herr) && errors.Is(err, errFlaky) {
			count++
		}
	}
	if count != total/10 {
		t.Errorf("OnError got %d HandlerErrors, want %d", count, total/10)
	}
}

func TestPoisonMessages(t *testing.T) {
	b := rabbit(t)
	queue := uniqueQueue(t)
	watch, states := stateWatcher()
	handled := newIDSet()
	c, err := banqup.NewConsumer(b.URL, queue, watch, banqup.WithStreams(banqup.Streams()...))
	if err != nil {
		t.Fatal(err)
	}
	c.OnTransaction(func(_ context.Context, e *banqup.TransactionEvent) error {
		handled.add(e.ID())
		return nil
	})
	run(t, c)
	waitState(t, states, banqup.StateConsuming)

	good, goodID, _ := banquptest.NewPublishing(banqup.StreamTransaction, banquptest.Fixture(banqup.StreamTransaction))
	env := func(body string) amqp.Publishing {
		return amqp.Publishing{ContentType: banqup.ContentTypeEnvelope, MessageId: banquptest.NewMessageID(), Body: []byte(body)}
	}
	huge := bytes.Repeat([]byte("["), 1<<20)
	tx := banqup.StreamTransaction.Exchange()
	poison := []struct {
		name, exchange string
		msg            amqp.Publishing
		to             string
	}{
		{"truncated JSON", tx, env(string(good.Body[:len(good.Body)/2])), "_error"},
		{"wrong field types", tx, env(`{"messageType":["` + banqup.StreamTransaction.URN() + `"],"message":{"data":{"id":42,"amount":true}}}`), "_error"},
		{"unknown URN", tx, env(`{"messageType":["urn:message:Other:Thing"],"message":{}}`), "_error"}, // exchange fallback → tx; {} decodes
		{"empty body", tx, env(""), "_error"},
		{"1 MB body", tx, env(string(huge)), "_error"},
		{"invalid UTF-8", tx, env("{\"messageType\":[\"" + banqup.StreamTransaction.URN() + "\"],\"message\":{\"data\":{\"id\":\"\xff\xfe\"}}}"), "_error"},
		{"wrong content type", tx, amqp.Publishing{ContentType: "application/vnd.masstransit+bson", MessageId: banquptest.NewMessageID(), Body: []byte{0x05, 0, 0, 0, 0}}, "_skipped"},
		{"xml", tx, amqp.Publishing{ContentType: "application/xml", MessageId: banquptest.NewMessageID(), Body: []byte("<x/>")}, "_skipped"},
		{"unknown URN on foreign exchange", queue, env(`{"messageType":["urn:message:Other:Thing"],"message":{}}`), "_skipped"},
		{"stream without handler", banqup.StreamConsent.Exchange(), func() amqp.Publishing {
			p, _, _ := banquptest.NewPublishing(banqup.StreamConsent, banquptest.Fixture(banqup.StreamConsent))
			return p
		}(), "_skipped"},
	}
	// "unknown URN" on the transaction exchange is dispatched by exchange
	// (the MassTransit fallback) and handled, so it is not poison: move it
	// to the handled set.
	poison[2].to = ""
	p := publisher(t, b.URL)
	want := map[string]string{}
	for _, pm := range poison {
		if err := p.PublishRaw(context.Background(), pm.exchange, "", pm.msg); err != nil {
			t.Fatalf("%s: %v", pm.name, err)
		}
		want[pm.msg.MessageId] = pm.to
	}
	// The consumer keeps running: a good message after the poison is handled.
	if err := p.PublishRaw(context.Background(), tx, "", good); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "good message after poison", func() bool { return handled.has(goodID) })
	eventually(t, 30*time.Second, "poison settled", func() bool {
		return queueDepth(t, b.URL, queue+"_error")+queueDepth(t, b.URL, queue+"_skipped") == len(poison)-1
	})
	got := map[string]string{}
	for _, suffix := range []string{"_error", "_skipped"} {
		for _, d := range drain(t, b.URL, queue+suffix) {
			got[d.MessageId] = suffix
			reason, _ := (&banqup.Delivery{Headers: d.Headers}).HeaderString("MT-Reason")
			if (suffix == "_error") != (reason == "fault") || (suffix == "_skipped") != (reason == "dead-letter") {
				t.Errorf("%s in %s with MT-Reason %q", d.MessageId, suffix, reason)
			}
		}
	}
	for _, pm := range poison {
		if pm.to == "" {
			if !handled.has(pm.msg.MessageId) {
				t.Errorf("%s: not handled", pm.name)
			}
			continue
		}
		if got[pm.msg.MessageId] != pm.to {
			t.Errorf("%s: landed in %q, want %q", pm.name, got[pm.msg.MessageId], pm.to)
		}
	}
	if n := queueDepth(t, b.URL, queue); n != 0 {
		t.Errorf("%d left in queue", n)
	}
}
