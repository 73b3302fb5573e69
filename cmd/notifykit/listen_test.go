package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/notifykit/notifykit/banqup"
	"github.com/notifykit/notifykit/banqup/banquptest"
	"github.com/notifykit/notifykit/comnorm"
	"github.com/notifykit/notifykit/comnorm/comnormtest"
	"github.com/notifykit/notifykit/dsgo"
	"github.com/notifykit/notifykit/dsgo/dsgotest"
	"github.com/notifykit/notifykit/internal/brokertest"
	"github.com/notifykit/notifykit/kreditsmart"
	"github.com/notifykit/notifykit/kreditsmart/kreditsmarttest"
)

func TestListenComnormConsumesAndPeeks(t *testing.T) {
	srv := comnormtest.NewServer(t)
	client, err := comnorm.NewClient(srv.PartnerKey, comnorm.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	q, err := client.CreateQueue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sender, err := comnorm.NewSender()
	if err != nil {
		t.Fatal(err)
	}
	post := func(order string) {
		t.Helper()
		if err := sender.Post(ctx, q.NotificationURL, q.NotificationSecret, map[string]string{"orderId": order}); err != nil {
			t.Fatal(err)
		}
	}
	post("A-1")
	post("A-2")
	t.Setenv("COMNORM_PARTNER_KEY", srv.PartnerKey) // the secret from the environment

	// -peek prints and leaves the messages in the queue.
	peek := start(t, "listen", "comnorm", "-base-url", srv.URL, "-queue", q.ID, "-peek", "-json", "-poll-timeout", "1s")
	peek.wait(t, peek.stdout, `A-2`, 10*time.Second)
	if st := peek.stop(t); st != 0 {
		t.Fatalf("peek exit %d: %s", st, peek.stderr)
	}
	if left, _ := client.Peek(ctx, q.ID, comnorm.PeekOptions{Count: 10}); len(left) != 2 {
		t.Fatalf("after -peek %d messages left, want 2", len(left))
	}
	var ce struct {
		SpecVersion string          `json:"specversion"`
		Type        string          `json:"type"`
		Data        json.RawMessage `json:"data"`
	}
	first := strings.SplitN(peek.stdout.String(), "\n", 2)[0]
	if err := json.Unmarshal([]byte(first), &ce); err != nil || ce.SpecVersion != "1.0" || ce.Type != "comnorm.message.received" || !strings.Contains(string(ce.Data), "A-1") {
		t.Fatalf("first JSON line = %s (%v)", first, err)
	}

	// The default consumes: printed messages are deleted, later ones
	// arrive through the long poll.
	l := start(t, "listen", "comnorm", "-base-url", srv.URL, "-queue", q.ID, "-poll-timeout", "1s")
	l.wait(t, l.stdout, `(?s)comnorm\.message\.received.*comnorm\.message\.received`, 10*time.Second)
	post("A-3")
	waitUntil(t, 10*time.Second, func() bool { return countLines(l.stdout.String(), "comnorm.message.received") == 3 })
	waitUntil(t, 10*time.Second, func() bool {
		left, _ := client.Peek(ctx, q.ID, comnorm.PeekOptions{Count: 10})
		return len(left) == 0
	})
	if st := l.stop(t); st != 0 {
		t.Fatalf("exit %d: %s", st, l.stderr)
	}
	if strings.Contains(l.stdout.String()+l.stderr.String(), srv.PartnerKey) {
		t.Fatal("the partner key was echoed")
	}
}

func TestListenDSGOReceivesSignedNotifications(t *testing.T) {
	p := dsgotest.NewProvider(t)
	const consumerID = "EU.EORI.NL000000042"
	roots := writeFile(t, t.TempDir(), "roots.pem", p.PKI.RootPEM())
	l := start(t, "listen", "dsgo", "-addr", "127.0.0.1:0", "-path", "/hook", "-party-id", consumerID, "-trust-roots", roots)
	hook := l.wait(t, l.stderr, `webhook at (http://\S+)`, 5*time.Second)[1]

	c := p.Client(t, p.Consumer(t, consumerID))
	ctx := context.Background()
	sub, err := c.Subscriptions.Create(ctx, dsgo.SubscriptionCreate{EventTypes: []string{"Modified"}, WebhookURL: hook})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := p.Publish(ctx, dsgo.Event{EventID: "e-1", EventType: "Modified", Data: json.RawMessage(`"permit/7"`)})
	if err != nil || len(ids) != 1 {
		t.Fatalf("publish: %v %v", ids, err)
	}
	if d := p.WaitDelivery(t, ids[0], 10*time.Second); d.State != "delivered" {
		t.Fatalf("delivery %s: %s (%s)", d.State, d.LastError, l.stderr)
	}
	l.wait(t, l.stdout, `dsgo\.event\.modified\s+`+sub.ID, time.Second)
	if st := l.stop(t); st != 0 {
		t.Fatalf("exit %d: %s", st, l.stderr)
	}
}

func TestListenKreditsmartFollowsTheShadow(t *testing.T) {
	srv := kreditsmarttest.NewServer(t)
	dev := srv.AddDevice("listener-1", "ECHTGESCHAEFT/ABC12")
	dir := t.TempDir()
	cert := writeFile(t, dir, "dev.pem", dev.CertPEM)
	key := writeFile(t, dir, "dev.key", dev.KeyPEM)
	ca := writeFile(t, dir, "ca.pem", srv.CA().RootPEM())
	l := start(t, "listen", "kreditsmart", "-endpoint", srv.Endpoint(), "-client-id", dev.Name, "-cert", cert, "-key", key,
		"-ca", ca, "-thing", dev.Name, "-topic-pointer", kreditsmarttest.TopicPointer)
	waitUntil(t, 10*time.Second, func() bool {
		for _, f := range srv.Subscriptions(dev.Name) {
			if f == "ECHTGESCHAEFT/ABC12/#" {
				return true
			}
		}
		return false
	})
	if err := srv.PublishNotification("ECHTGESCHAEFT/ABC12/DEF34", "VN1245"); err != nil {
		t.Fatal(err)
	}
	l.wait(t, l.stdout, `kreditsmart\.vorgang\.changed\s+VN1245`, 10*time.Second)
	srv.MoveTopic(dev.Name, "ECHTGESCHAEFT/XYZ99")
	l.wait(t, l.stdout, `kreditsmart\.topic\.changed\s+ECHTGESCHAEFT/XYZ99`, 10*time.Second)
	if err := srv.PublishNotification("ECHTGESCHAEFT/XYZ99/Q1", "VN2000"); err != nil {
		t.Fatal(err)
	}
	l.wait(t, l.stdout, `VN2000`, 10*time.Second)
	if st := l.stop(t); st != 0 {
		t.Fatalf("exit %d: %s", st, l.stderr)
	}

	// -fetch-shadow prints the document to find the topic pointer.
	var out, errOut syncBuffer
	st := run(context.Background(), []string{"listen", "kreditsmart", "-endpoint", srv.Endpoint(), "-client-id", dev.Name,
		"-cert", cert, "-key", key, "-ca", ca, "-thing", dev.Name, "-topic-pointer", "/x", "-fetch-shadow"}, &out, &errOut)
	if st != 0 || !strings.Contains(out.String(), "ECHTGESCHAEFT/XYZ99") {
		t.Fatalf("-fetch-shadow: exit %d, stdout %q, stderr %q", st, out.String(), errOut.String())
	}
}

func TestListenBanqup(t *testing.T) {
	rmq := brokertest.RabbitMQ(t)
	queue := fmt.Sprintf("notifykit-cli-test-%d", time.Now().UnixNano())
	t.Setenv("BANQUP_AMQP_URL", rmq.URL)
	l := start(t, "listen", "banqup", "-queue", queue, "-streams", "account,transaction")
	// The consumer binds the queue to banqUP's exchanges before it starts
	// consuming; messages published before the binding would be dropped.
	waitUntil(t, 30*time.Second, func() bool { return queueConsumed(rmq.URL, queue) })

	ctx := context.Background()
	pub, err := banquptest.NewPublisher(ctx, rmq.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	if _, err := pub.Publish(ctx, banqup.StreamAccount, banquptest.Fixture(banqup.StreamAccount)); err != nil {
		t.Fatal(err)
	}
	if _, err := pub.Publish(ctx, banqup.StreamTransaction, banquptest.Fixture(banqup.StreamTransaction)); err != nil {
		t.Fatal(err)
	}
	l.wait(t, l.stdout, `banqup\.account\.created`, 10*time.Second)
	l.wait(t, l.stdout, `banqup\.transaction\.created\s+tx-0001`, 10*time.Second)
	if st := l.stop(t); st != 0 {
		t.Fatalf("exit %d: %s", st, l.stderr)
	}
	if strings.Contains(l.stdout.String()+l.stderr.String(), rmq.URL) {
		t.Fatal("the AMQP URL (with its password) was echoed")
	}
	deleteQueues(rmq.URL, queue)
}

// queueConsumed reports whether queue exists and has a consumer.
func queueConsumed(url, queue string) bool {
	conn, err := amqp.Dial(url)
	if err != nil {
		return false
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return false
	}
	defer ch.Close()
	q, err := ch.QueueDeclarePassive(queue, true, false, false, false, nil)
	return err == nil && q.Consumers > 0
}

func deleteQueues(url, queue string) {
	conn, err := amqp.Dial(url)
	if err != nil {
		return
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return
	}
	defer ch.Close()
	for _, n := range []string{queue, queue + "_error", queue + "_skipped"} {
		_, _ = ch.QueueDelete(n, false, false, false)
		_ = ch.ExchangeDelete(n, false, false)
	}
}

func waitUntil(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestListenKreditsmartWebhook(t *testing.T) {
	const secret = "webhook-secret-0001"
	t.Setenv("KREDITSMART_WEBHOOK_SECRET", "old-secret,"+secret)
	l := start(t, "listen", "kreditsmart", "-webhook", "127.0.0.1:0", "-json")
	url := l.wait(t, l.stderr, `webhook at (http://\S+)`, 5*time.Second)[1]
	body := []byte(`{"vorgangsnummer":"VN1245","teilantragsnummer":"VN1245/1/1"}`)
	post := func(sig string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(kreditsmart.SignatureHeader, sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("bm90LXRoZS1zaWduYXR1cmU="); code != http.StatusUnauthorized {
		t.Fatalf("wrong signature: %d", code)
	}
	if code := post(kreditsmart.Sign([]byte(secret), body)); code != http.StatusOK {
		t.Fatalf("signed request: %d", code)
	}
	l.wait(t, l.stdout, `"type":"kreditsmart.vorgang.changed","subject":"VN1245"`, 5*time.Second)
	if n := countLines(l.stdout.String(), "VN1245"); n != 1 {
		t.Fatalf("%d lines for one accepted request:\n%s", n, l.stdout)
	}
	if st := l.stop(t); st != 0 {
		t.Fatalf("exit %d: %s", st, l.stderr)
	}
}
