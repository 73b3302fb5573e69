package kreditsmart_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/notifykit/notifykit/internal/testpki"
	"github.com/notifykit/notifykit/kreditsmart"
	"github.com/notifykit/notifykit/kreditsmart/kreditsmarttest"
)

func TestMosquittoResolvesTopicAndDelivers(t *testing.T) {
	e := newMosqEnv(t)
	e.setTopic(t, "dev-m", "ECHTGESCHAEFT/ABC12")
	rec := newRecorder()
	sub := e.subscriber(t, "dev-m", rec, kreditsmart.WithThing("dev-m"), kreditsmart.WithTopicPointer(kreditsmarttest.TopicPointer))
	run(t, sub)
	waitFor(t, 10*time.Second, "subscription", func() bool { return sub.Topic() == "ECHTGESCHAEFT/ABC12" })
	ctx := t.Context()
	for i := 0; i < 20; i++ {
		if err := e.publish(ctx, "ECHTGESCHAEFT/ABC12/DEF34", kreditsmarttest.Payload(fmt.Sprintf("VN%d", i), "ECHTGESCHAEFT/ABC12/DEF34", time.Now())); err != nil {
			t.Fatal(err)
		}
	}
	// Outside the tree, and a payload over AWS's 128 KB that Mosquitto
	// forwards: reported, not delivered.
	_ = e.publish(ctx, "ECHTGESCHAEFT/XYZ99/DEF34", kreditsmarttest.Payload("VN-other", "ECHTGESCHAEFT/XYZ99", time.Now()))
	big := []byte(`{"vorgangsnummer":"VN-big","pad":"` + strings.Repeat("x", kreditsmart.MaxPayloadBytes) + `"}`)
	if err := e.publish(ctx, "ECHTGESCHAEFT/ABC12/DEF34", big); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "20 notifications", func() bool { return rec.count() == 20 })
	waitFor(t, 5*time.Second, "oversize payload error", func() bool { return rec.hasError(kreditsmart.ErrPayloadTooLarge) })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.byID["VN-other"] != 0 || rec.byID["VN-big"] != 0 {
		t.Errorf("delivered %v", rec.byID)
	}
}

func TestMosquittoHandshakeFailures(t *testing.T) {
	e := newMosqEnv(t)
	other, _ := testpki.NewCA(testpki.Options{CommonName: "other"})
	expired, err := e.ca.Issue(testpki.Options{CommonName: "dev-m", Expired: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opts []kreditsmart.Option
		want string
	}{
		{"unknown server CA", []kreditsmart.Option{kreditsmart.WithRootCAs(other.Pool())}, "unknown authority"},
		{"expired client certificate", []kreditsmart.Option{kreditsmart.WithClientCertificate(expired.TLSCertificate())}, "certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder()
			sub := e.subscriber(t, "dev-m", rec, append([]kreditsmart.Option{kreditsmart.WithStaticTopic("ECHTGESCHAEFT/ABC12")}, tc.opts...)...)
			done, _ := run(t, sub)
			select {
			case err := <-done:
				if !errors.Is(err, kreditsmart.ErrConnect) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("Run = %v", err)
				}
				t.Log(err)
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not end")
			}
		})
	}
}

func TestMosquittoRestartReconnectsAndReportsGap(t *testing.T) {
	e := newMosqEnv(t)
	if !e.broker.CanFault() {
		t.Skip("broker cannot be restarted (container)")
	}
	e.setTopic(t, "dev-m", "ECHTGESCHAEFT/ABC12")
	rec := newRecorder()
	sub := e.subscriber(t, "dev-m", rec, kreditsmart.WithThing("dev-m"), kreditsmart.WithTopicPointer(kreditsmarttest.TopicPointer))
	run(t, sub)
	waitFor(t, 10*time.Second, "subscription", func() bool { return sub.Topic() != "" })
	ctx := t.Context()
	if err := e.publish(ctx, "ECHTGESCHAEFT/ABC12/A", kreditsmarttest.Payload("VN-before", "ECHTGESCHAEFT/ABC12/A", time.Now())); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "first notification", func() bool { return rec.count() == 1 })

	stopAt := time.Now()
	if err := e.broker.Restart(); err != nil {
		t.Fatal(err)
	}
	restartedAt := time.Now()
	waitFor(t, 15*time.Second, "gap report", func() bool { rec.mu.Lock(); defer rec.mu.Unlock(); return len(rec.gaps) == 1 })
	waitFor(t, 5*time.Second, "resubscription", func() bool { return sub.Topic() == "ECHTGESCHAEFT/ABC12" })
	g := rec.gaps[0]
	if g.Start.Before(stopAt) || g.Start.After(restartedAt) || g.End.Before(restartedAt) || g.Topic != "ECHTGESCHAEFT/ABC12" || g.Reason == "" {
		t.Fatalf("gap %+v (stop %v, restarted %v)", g, stopAt, restartedAt)
	}
	t.Logf("gap %v, reason %q", g.Duration(), g.Reason)
	// The publisher reconnects as well; retry until it can publish.
	waitFor(t, 10*time.Second, "notification after restart", func() bool {
		_ = e.publish(ctx, "ECHTGESCHAEFT/ABC12/A", kreditsmarttest.Payload("VN-after", "ECHTGESCHAEFT/ABC12/A", time.Now()))
		time.Sleep(50 * time.Millisecond)
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return rec.byID["VN-after"] > 0
	})
}

func TestMosquittoTopicChangeUnderLoad(t *testing.T) {
	e := newMosqEnv(t)
	// The new tree lies inside the old one, so both filters match the new
	// tree's messages during the overlap: each must still arrive once.
	oldT, newT := "ECHTGESCHAEFT/ABC12", "ECHTGESCHAEFT/ABC12/SUB01"
	e.setTopic(t, "dev-m", oldT)
	rec := newRecorder()
	// Hold the overlap open for 300 ms so that many messages fall into it:
	// Mosquitto sends one copy per matching subscription.
	sub := e.subscriber(t, "dev-m", rec, kreditsmart.WithThing("dev-m"), kreditsmart.WithTopicPointer(kreditsmarttest.TopicPointer),
		kreditsmart.WithWatchShadow(true, 0), kreditsmart.WithOverlapHold(300*time.Millisecond))
	run(t, sub)
	waitFor(t, 10*time.Second, "subscription", func() bool { return sub.Topic() == kreditsmart.Partnerbaum(oldT) })

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	type sent struct {
		id    string
		after bool // published after the TopicChange was reported
	}
	results := make(chan []sent, 1)
	go func() {
		var all []sent
		for i := 0; ctx.Err() == nil; i++ {
			rec.mu.Lock()
			moved := len(rec.moves) > 0
			rec.mu.Unlock()
			for _, tr := range []string{newT + "/K1", "ECHTGESCHAEFT/NEW77/K1", oldT + "/K2"} {
				id := fmt.Sprintf("%s#%d", tr, i)
				if e.publish(ctx, tr, kreditsmarttest.Payload(id, tr, time.Now())) == nil {
					all = append(all, sent{id, moved})
				}
			}
		}
		results <- all
	}()
	time.Sleep(100 * time.Millisecond)
	e.setTopic(t, "dev-m", newT)
	waitFor(t, 10*time.Second, "topic change", func() bool { return sub.Topic() == kreditsmart.Partnerbaum(newT) })
	time.Sleep(500 * time.Millisecond)
	cancel()
	all := <-results
	time.Sleep(500 * time.Millisecond)

	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.moves) != 1 {
		t.Fatalf("moves %+v", rec.moves)
	}
	afterN := 0
	for _, s := range all {
		n := rec.byID[s.id]
		if n > 1 {
			t.Errorf("%s delivered %d times", s.id, n)
		}
		if s.after && strings.HasPrefix(s.id, newT) {
			afterN++
			if n != 1 {
				t.Errorf("%s, published on the new tree after the change, delivered %d times", s.id, n)
			}
		}
		if s.after && strings.HasPrefix(s.id, "ECHTGESCHAEFT/NEW77") && n != 0 {
			t.Errorf("%s outside the topic delivered", s.id)
		}
	}
	if afterN < 10 {
		t.Fatalf("only %d notifications on the new tree after the change; test proves little", afterN)
	}
	t.Logf("%d published, %d on the new tree after the change", len(all), afterN)
}

func TestMosquittoClosingAfterSubscribeTripsLoopGuard(t *testing.T) {
	// Mosquitto's acl_file never refuses a SUBSCRIBE (it filters
	// deliveries), so make a real broker behave like AWS IoT with a
	// forbidden filter: a SUBSCRIBE above max_packet_size makes Mosquitto
	// close the connection right after it, every time.
	e := newMosqEnv(t, "max_packet_size 400")
	long := "ECHTGESCHAEFT/ABC12/" + strings.Repeat("L", 180)
	rec := newRecorder()
	sub := e.subscriber(t, "dev-m", rec, kreditsmart.WithStaticTopic(long), kreditsmart.WithSubscribeParent(),
		kreditsmart.WithLoopGuard(3, 5*time.Second))
	done, _ := run(t, sub)
	select {
	case err := <-done:
		var se *kreditsmart.SubscriptionError
		if !errors.As(err, &se) || !se.Permanent || !errors.Is(err, kreditsmart.ErrSubscriptionRejected) {
			t.Fatalf("Run = %v", err)
		}
		t.Log(err)
	case <-time.After(15 * time.Second):
		rec.mu.Lock()
		t.Fatalf("Run kept looping; errors %v", rec.errs)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.gaps) != 0 {
		t.Errorf("gaps reported without a subscription: %v", rec.gaps)
	}
}
