package kreditsmart_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notifykit/notifykit"
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

func TestFakeReconnectReportsGap(t *testing.T) {
	srv := kreditsmarttest.NewServer(t)
	dev := srv.AddDevice("dev-gap", "ECHTGESCHAEFT/ABC12")
	rec := newRecorder()
	sub := fakeSubscriber(t, srv, dev, rec)
	run(t, sub)
	waitFor(t, 5*time.Second, "subscription", func() bool { return sub.Topic() != "" })
	before := time.Now()
	if !srv.Drop("dev-gap") {
		t.Fatal("nothing to drop")
	}
	waitFor(t, 5*time.Second, "gap", func() bool { rec.mu.Lock(); defer rec.mu.Unlock(); return len(rec.gaps) == 1 })
	waitFor(t, 5*time.Second, "resubscription", func() bool { return sub.Topic() != "" })
	g := rec.gaps[0]
	if g.Start.Before(before) || !g.End.After(g.Start) || g.Topic != "ECHTGESCHAEFT/ABC12" || g.Reason == "" || g.Client != "dev-gap" {
		t.Fatalf("gap %+v", g)
	}
	if err := srv.PublishNotification("ECHTGESCHAEFT/ABC12/X", "VN-after"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "delivery after reconnect", func() bool { return rec.count() == 1 })
	if srv.Connects("dev-gap") != 2 {
		t.Errorf("CONNECTs = %d, want 2", srv.Connects("dev-gap"))
	}
}

func TestFakeReconnectThrottleDefault(t *testing.T) {
	// With the default backoff, a client never CONNECTs twice within a
	// second: AWS IoT throttles CONNECT per client id.
	srv := kreditsmarttest.NewServer(t)
	dev := srv.AddDevice("dev-throttle", "ECHTGESCHAEFT/ABC12")
	rec := newRecorder()
	sub, err := kreditsmart.NewSubscriber(srv.Endpoint(), dev.Name,
		kreditsmart.WithClientCertificate(dev.Certificate), kreditsmart.WithRootCAs(srv.RootCAs()),
		kreditsmart.WithStaticTopic("ECHTGESCHAEFT/ABC12"), kreditsmart.WithOnError(rec.onError))
	if err != nil {
		t.Fatal(err)
	}
	rec.attach(sub)
	run(t, sub)
	waitFor(t, 5*time.Second, "subscription", func() bool { return sub.Topic() != "" })
	srv.Drop(dev.Name)
	waitFor(t, 5*time.Second, "reconnect", func() bool { return srv.Connects(dev.Name) == 2 })
	times := srv.ConnectTimes(dev.Name)
	if d := times[1].Sub(times[0]); d < time.Second {
		t.Fatalf("second CONNECT %v after the first", d)
	}
}

func TestFakeTopicChangeViaDocuments(t *testing.T) {
	srv := kreditsmarttest.NewServer(t)
	oldT, newT := "ECHTGESCHAEFT/ABC12", "ECHTGESCHAEFT/NEW77/ABC12"
	dev := srv.AddDevice("dev-move", oldT)
	rec := newRecorder()
	sub := fakeSubscriber(t, srv, dev, rec, kreditsmart.WithWatchShadow(true, 0))
	run(t, sub)
	waitFor(t, 5*time.Second, "subscription", func() bool { return sub.Topic() == kreditsmart.Partnerbaum(oldT) })

	// Publish continuously on both trees while the topic moves.
	stop := make(chan struct{})
	published := make(chan []string, 1)
	go func() {
		var afterMove []string
		for i := 0; ; i++ {
			select {
			case <-stop:
				published <- afterMove
				return
			default:
			}
			rec.mu.Lock()
			moved := len(rec.moves) > 0
			rec.mu.Unlock()
			id := fmt.Sprintf("N%d", i)
			_ = srv.PublishNotification(newT+"/K1", id)
			if moved {
				afterMove = append(afterMove, id)
			}
			_ = srv.PublishNotification(oldT+"/K1", fmt.Sprintf("O%d", i))
			time.Sleep(time.Millisecond)
		}
	}()
	time.Sleep(50 * time.Millisecond)
	srv.MoveTopic(dev.Name, newT)
	waitFor(t, 5*time.Second, "topic change", func() bool { return sub.Topic() == kreditsmart.Partnerbaum(newT) })
	time.Sleep(300 * time.Millisecond)
	close(stop)
	after := <-published
	time.Sleep(300 * time.Millisecond)

	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.moves) != 1 || rec.moves[0].Old != kreditsmart.Partnerbaum(oldT) || rec.moves[0].New != kreditsmart.Partnerbaum(newT) {
		t.Fatalf("moves %+v", rec.moves)
	}
	if len(after) < 20 {
		t.Fatalf("only %d notifications published after the move", len(after))
	}
	for _, id := range after {
		if rec.byID[id] != 1 {
			t.Fatalf("%s published on the new tree after the change delivered %d times", id, rec.byID[id])
		}
	}
	for id, n := range rec.byID {
		if n != 1 {
			t.Errorf("%s delivered %d times", id, n)
		}
	}
	subs := srv.Subscriptions(dev.Name)
	for _, f := range subs {
		if f == oldT+"/#" {
			t.Errorf("old filter still subscribed: %v", subs)
		}
	}
}

func TestFakeLoopGuardForbiddenTopic(t *testing.T) {
	srv := kreditsmarttest.NewServer(t)
	dev := srv.AddDevice("dev-forbidden", "ECHTGESCHAEFT/ABC12")
	// The shadow names a tree the policy does not grant: AWS closes the
	// connection after every SUBSCRIBE.
	srv.SetShadow(dev.Name, "", []byte(`{"state":{"reported":{"topic":"ECHTGESCHAEFT/OTHER"}}}`))
	rec := newRecorder()
	sub := fakeSubscriber(t, srv, dev, rec, kreditsmart.WithLoopGuard(3, 5*time.Second))
	done, _ := run(t, sub)
	select {
	case err := <-done:
		var se *kreditsmart.SubscriptionError
		t.Log(err)
		if !errors.As(err, &se) || !errors.Is(err, kreditsmart.ErrSubscriptionRejected) || !se.Permanent {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("loop guard did not stop the loop")
	}
	if n := srv.Connects(dev.Name); n < 3 || n > 5 {
		t.Errorf("%d CONNECTs, want about 4 (3 drops + the final check)", n)
	}
	if !rec.hasError(kreditsmart.ErrSubscriptionRejected) {
		t.Error("OnError did not see the rejection")
	}
}

func TestFakeLoopGuardFollowsNewTopic(t *testing.T) {
	srv := kreditsmarttest.NewServer(t)
	dev := srv.AddDevice("dev-fix", "ECHTGESCHAEFT/ABC12")
	srv.SetShadow(dev.Name, "", []byte(`{"state":{"reported":{"topic":"ECHTGESCHAEFT/OTHER"}}}`))
	rec := newRecorder()
	var once sync.Once
	// Europace fixes the shadow as soon as the rejection is reported; the
	// reconnect waits at least 300 ms, so the re-read sees the fix.
	sub := fakeSubscriber(t, srv, dev, rec, kreditsmart.WithLoopGuard(2, 5*time.Second),
		kreditsmart.WithReconnectBackoff(300*time.Millisecond, time.Second),
		kreditsmart.WithOnError(func(err error) {
			rec.onError(err)
			if errors.Is(err, kreditsmart.ErrSubscriptionRejected) {
				once.Do(func() {
					srv.SetShadow(dev.Name, "", []byte(`{"state":{"reported":{"topic":"ECHTGESCHAEFT/ABC12"}}}`))
				})
			}
		}))
	done, _ := run(t, sub)
	deadline := time.After(10 * time.Second)
	for sub.Topic() != "ECHTGESCHAEFT/ABC12" {
		select {
		case err := <-done:
			t.Fatalf("Run ended instead of following the fixed shadow: %v", err)
		case <-deadline:
			t.Fatal("never subscribed the fixed topic")
		case <-time.After(10 * time.Millisecond):
		}
	}
	if srv.Connects(dev.Name) != 3 {
		t.Errorf("%d CONNECTs, want 3 (two drops, then the fixed topic)", srv.Connects(dev.Name))
	}
}

func TestFakeMalformedPayloadsKeepRunning(t *testing.T) {
	srv := kreditsmarttest.NewServer(t)
	dev := srv.AddDevice("dev-bad", "ECHTGESCHAEFT/ABC12")
	rec := newRecorder()
	sub := fakeSubscriber(t, srv, dev, rec)
	run(t, sub)
	waitFor(t, 5*time.Second, "subscription", func() bool { return sub.Topic() != "" })
	topic := "ECHTGESCHAEFT/ABC12/X"
	for _, p := range []string{`not json`, `{"quellsystem":"KREDITSMART"}`, `{"vorgangsnummer":{}}`, `[]`} {
		if err := srv.Publish(topic, []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.PublishNotification(topic, "VN-good"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "good notification", func() bool { return rec.count() == 1 })
	waitFor(t, 5*time.Second, "four payload errors", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		n := 0
		for _, e := range rec.errs {
			var pe *kreditsmart.PayloadError
			if errors.As(e, &pe) && pe.Topic == topic && len(pe.Raw) > 0 {
				n++
			}
		}
		return n == 4
	})
	if !rec.hasError(kreditsmart.ErrMissingVorgangsnummer) || !rec.hasError(kreditsmart.ErrMalformedPayload) {
		t.Error("errors not typed")
	}
}

func TestFakeCoalesce(t *testing.T) {
	srv := kreditsmarttest.NewServer(t)
	dev := srv.AddDevice("dev-co", "ECHTGESCHAEFT/ABC12")
	rec := newRecorder()
	sub := fakeSubscriber(t, srv, dev, rec, kreditsmart.WithCoalesce(300*time.Millisecond))
	run(t, sub)
	waitFor(t, 5*time.Second, "subscription", func() bool { return sub.Topic() != "" })
	for i := 0; i < 50; i++ {
		for _, vn := range []string{"VN1", "VN2"} {
			if err := srv.Publish("ECHTGESCHAEFT/ABC12/X", []byte(fmt.Sprintf(`{"vorgangsnummer":%q,"seq":%d}`, vn, i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitFor(t, 5*time.Second, "both Vorgänge", func() bool { rec.mu.Lock(); defer rec.mu.Unlock(); return rec.byID["VN1"] > 0 && rec.byID["VN2"] > 0 })
	time.Sleep(700 * time.Millisecond)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.byID["VN1"] > 3 || rec.byID["VN2"] > 3 {
		t.Fatalf("not coalesced: %v", rec.byID)
	}
	last := map[string]string{}
	for _, n := range rec.notes {
		last[n.Vorgangsnummer] = string(n.Raw)
	}
	if last["VN1"] != `{"vorgangsnummer":"VN1","seq":49}` {
		t.Errorf("last VN1 call got %s, want the latest message", last["VN1"])
	}
}

func TestFakeSharedSubscriptionSplitsLoad(t *testing.T) {
	srv := kreditsmarttest.NewServer(t)
	a := srv.AddDevice("inst-a", "ECHTGESCHAEFT/ABC12")
	b := srv.AddDevice("inst-b", "ECHTGESCHAEFT/ABC12")
	ra, rb := newRecorder(), newRecorder()
	sa := fakeSubscriber(t, srv, a, ra, kreditsmart.WithSharedSubscription("kex"))
	sb := fakeSubscriber(t, srv, b, rb, kreditsmart.WithSharedSubscription("kex"))
	run(t, sa)
	run(t, sb)
	waitFor(t, 5*time.Second, "subscriptions", func() bool { return sa.Topic() != "" && sb.Topic() != "" })
	const n = 40
	for i := 0; i < n; i++ {
		if err := srv.PublishNotification("ECHTGESCHAEFT/ABC12/X", fmt.Sprintf("VN%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 5*time.Second, "all notifications", func() bool { return ra.count()+rb.count() == n })
	if ra.count() == 0 || rb.count() == 0 {
		t.Errorf("not shared: %d / %d", ra.count(), rb.count())
	}
}

func TestFakeConcurrencyRetryAndHandlerErrors(t *testing.T) {
	srv := kreditsmarttest.NewServer(t)
	dev := srv.AddDevice("dev-conc", "ECHTGESCHAEFT/ABC12")
	rec := newRecorder()
	var (
		mu       sync.Mutex
		attempts = map[string]int{}
		inFlight int
		maxIn    int
	)
	sub := fakeSubscriber(t, srv, dev, rec, kreditsmart.WithConcurrency(4),
		kreditsmart.WithRetry(3, func(int) time.Duration { return time.Millisecond }))
	sub.OnNotification(func(ctx context.Context, n *kreditsmart.Notification) error {
		mu.Lock()
		attempts[n.Vorgangsnummer]++
		a := attempts[n.Vorgangsnummer]
		inFlight++
		if inFlight > maxIn {
			maxIn = inFlight
		}
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		inFlight--
		mu.Unlock()
		switch {
		case n.Vorgangsnummer == "VN-broken":
			return errors.New("downstream down")
		case n.Vorgangsnummer == "VN-flaky" && a < 3:
			return errors.New("try again")
		case n.Vorgangsnummer == "VN-permanent":
			return notifykit.Permanent(errors.New("cannot ever work"))
		}
		return rec.handle(ctx, n)
	})
	run(t, sub)
	waitFor(t, 5*time.Second, "subscription", func() bool { return sub.Topic() != "" })
	ids := []string{"VN-broken", "VN-flaky", "VN-permanent"}
	for i := 0; i < 20; i++ {
		ids = append(ids, fmt.Sprintf("VN%d", i))
	}
	for _, id := range ids {
		if err := srv.PublishNotification("ECHTGESCHAEFT/ABC12/X", id); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 10*time.Second, "21 handled", func() bool { return rec.count() == 21 })
	waitFor(t, 5*time.Second, "handler errors", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		n := 0
		for _, e := range rec.errs {
			var he *kreditsmart.HandlerError
			if errors.As(e, &he) && errors.Is(e, kreditsmart.ErrHandler) {
				n++
			}
		}
		return n == 2
	})
	mu.Lock()
	defer mu.Unlock()
	if attempts["VN-broken"] != 3 || attempts["VN-flaky"] != 3 || attempts["VN-permanent"] != 1 {
		t.Errorf("attempts %v", attempts)
	}
	if maxIn < 2 || maxIn > 4 {
		t.Errorf("max concurrent handlers %d, want 2..4", maxIn)
	}
}

func TestFakeGenericHandlerSeesLifecycleEvents(t *testing.T) {
	srv := kreditsmarttest.NewServer(t)
	dev := srv.AddDevice("dev-gen", "ECHTGESCHAEFT/ABC12")
	var mu sync.Mutex
	var types []string
	h := notifykit.HandlerFunc(func(_ context.Context, e notifykit.Event) error {
		mu.Lock()
		types = append(types, e.Type())
		mu.Unlock()
		return nil
	})
	rec := newRecorder()
	sub, err := kreditsmart.NewSubscriber(srv.Endpoint(), dev.Name, append(fastOpts(),
		kreditsmart.WithClientCertificate(dev.Certificate), kreditsmart.WithRootCAs(srv.RootCAs()),
		kreditsmart.WithThing(dev.Name), kreditsmart.WithTopicPointer(kreditsmarttest.TopicPointer),
		kreditsmart.WithWatchShadow(true, 0), kreditsmart.WithHandler(h), kreditsmart.WithOnError(rec.onError))...)
	if err != nil {
		t.Fatal(err)
	}
	run(t, sub)
	waitFor(t, 5*time.Second, "subscription", func() bool { return sub.Topic() != "" })
	_ = srv.PublishNotification("ECHTGESCHAEFT/ABC12/X", "VN1")
	waitFor(t, 5*time.Second, "notification", func() bool { mu.Lock(); defer mu.Unlock(); return len(types) == 1 })
	srv.Drop(dev.Name)
	waitFor(t, 5*time.Second, "resubscription", func() bool { return sub.Topic() != "" })
	srv.MoveTopic(dev.Name, "ECHTGESCHAEFT/NEW11")
	want := []string{kreditsmart.EventType, kreditsmart.GapEventType, kreditsmart.TopicChangeEventType}
	waitFor(t, 5*time.Second, "three event types", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return fmt.Sprint(types) == fmt.Sprint(want)
	})
}

func TestFakeTopicChangeByPeriodicReread(t *testing.T) {
	srv := kreditsmarttest.NewServer(t)
	dev := srv.AddDevice("dev-poll", "ECHTGESCHAEFT/ABC12")
	rec := newRecorder()
	// No update/documents (a policy may not grant it): poll instead.
	sub := fakeSubscriber(t, srv, dev, rec, kreditsmart.WithWatchShadow(false, 100*time.Millisecond))
	run(t, sub)
	waitFor(t, 5*time.Second, "subscription", func() bool { return sub.Topic() == "ECHTGESCHAEFT/ABC12" })
	srv.MoveTopic(dev.Name, "ECHTGESCHAEFT/NEW22")
	waitFor(t, 5*time.Second, "topic change", func() bool { return sub.Topic() == "ECHTGESCHAEFT/NEW22" })
	if err := srv.PublishNotification("ECHTGESCHAEFT/NEW22/X", "VN-new"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "delivery on the new topic", func() bool { return rec.count() == 1 })
	for _, f := range srv.Subscriptions(dev.Name) {
		if strings.HasSuffix(f, "/update/documents") || f == "ECHTGESCHAEFT/ABC12/#" {
			t.Errorf("unexpected subscription %q", f)
		}
	}
}
