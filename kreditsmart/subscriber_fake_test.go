package kreditsmart_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/notifykit/notifykit/kreditsmart"
	"github.com/notifykit/notifykit/kreditsmart/kreditsmarttest"
)

func TestFakeResolvesTopicAndDelivers(t *testing.T) {
	srv := kreditsmarttest.NewServer(t)
	dev := srv.AddDevice("dev-1", "ECHTGESCHAEFT/ABC12")
	rec := newRecorder()
	sub := fakeSubscriber(t, srv, dev, rec)
	run(t, sub)
	waitFor(t, 5*time.Second, "subscription", func() bool { return sub.Topic() == "ECHTGESCHAEFT/ABC12" })

	deep := "ECHTGESCHAEFT/ABC12/B1/C1/D1/E1/F1/G1/H1" // 9 levels: topic is cut to 7
	for i, tree := range []string{"ECHTGESCHAEFT/ABC12/DEF34", deep, "ECHTGESCHAEFT/XYZ99/DEF34"} {
		if err := srv.PublishNotification(tree, fmt.Sprintf("VN%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	// AWS's # does not match the parent level: bare T is not delivered.
	if err := srv.PublishNotification("ECHTGESCHAEFT/ABC12", "VN-parent"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "two notifications", func() bool { return rec.count() >= 2 })
	time.Sleep(200 * time.Millisecond)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.notes) != 2 || rec.byID["VN0"] != 1 || rec.byID["VN1"] != 1 {
		t.Fatalf("delivered %v", rec.byID)
	}
	n := rec.notes[1]
	if n.Topic != "ECHTGESCHAEFT/ABC12/B1/C1/D1/E1/F1" || n.KundenbetreuerPartnerbaum != kreditsmart.Partnerbaum(deep) || n.Channel != kreditsmart.ChannelMQTT || n.Quellsystem != "KREDITSMART" || n.LetztesAenderungsDatum.IsZero() {
		t.Errorf("notification %+v", n)
	}
}

func TestFakeSubscribeParent(t *testing.T) {
	srv := kreditsmarttest.NewServer(t)
	dev := srv.AddDevice("dev-p", "ECHTGESCHAEFT/ABC12")
	rec := newRecorder()
	sub := fakeSubscriber(t, srv, dev, rec, kreditsmart.WithSubscribeParent())
	run(t, sub)
	waitFor(t, 5*time.Second, "subscription", func() bool { return sub.Topic() != "" })
	if err := srv.PublishNotification("ECHTGESCHAEFT/ABC12", "VN-parent"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "parent-level notification", func() bool { return rec.count() == 1 })
}

func TestFakeTopicUnresolved(t *testing.T) {
	srv := kreditsmarttest.NewServer(t)
	dev := srv.AddDevice("dev-2", "ECHTGESCHAEFT/ABC12")
	for _, tc := range []struct {
		name string
		opt  kreditsmart.Option
	}{
		{"pointer mismatch", kreditsmart.WithTopicPointer("/state/desired/topic")},
		{"func error", kreditsmart.WithTopicFunc(func([]byte) (string, error) { return "", errors.New("no idea") })},
		{"wildcard value", kreditsmart.WithTopicFunc(func([]byte) (string, error) { return "ECHTGESCHAEFT/#", nil })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder()
			sub := fakeSubscriber(t, srv, dev, rec, tc.opt)
			done, _ := run(t, sub)
			select {
			case err := <-done:
				var te *kreditsmart.TopicError
				if !errors.Is(err, kreditsmart.ErrTopicUnresolved) || !errors.As(err, &te) {
					t.Fatalf("Run = %v", err)
				}
				t.Log(err)
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not fail")
			}
		})
	}
}

func TestFakeFetchShadow(t *testing.T) {
	srv := kreditsmarttest.NewServer(t)
	dev := srv.AddDevice("dev-3", "ECHTGESCHAEFT/ABC12")
	rec := newRecorder()
	sub := fakeSubscriber(t, srv, dev, rec)
	doc, err := sub.FetchShadow(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), `"reported":{"topic":"ECHTGESCHAEFT/ABC12"}`) {
		t.Fatalf("FetchShadow = %s", doc)
	}
}
