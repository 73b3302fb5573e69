package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/notifykit/notifykit"
	"github.com/notifykit/notifykit/kreditsmart"
	"github.com/notifykit/notifykit/kreditsmart/kreditsmarttest"
)

// kreditsmartSource runs the in-process fake of AWS IoT Core (mTLS MQTT
// broker with a per-device policy and a device shadow), the real
// kreditsmart.Subscriber that learns its topic from the shadow, and a
// publisher that sends KEX-PUSH payloads the way Europace does. Half-way
// through, the partner tree is restructured: the shadow names a new topic
// and the subscriber moves to it without losing a message.
func kreditsmartSource() sandboxSource {
	return sandboxSource{name: "kreditsmart", run: runKreditsmartSandbox}
}

const (
	sandboxDevice  = "notifykit-sandbox"
	sandboxTopic   = "ECHTGESCHAEFT/ABC12"
	sandboxMovedTo = "ECHTGESCHAEFT/XYZ99"
)

func runKreditsmartSandbox(ctx context.Context, env *sandboxEnv) error {
	fake, err := kreditsmarttest.Start(kreditsmarttest.WithLogger(env.log))
	if err != nil {
		return fmt.Errorf("starting the AWS IoT stand-in: %w", err)
	}
	defer func() {
		if err := fake.Close(); err != nil {
			env.log.Warn("stopping the AWS IoT stand-in", "err", err)
		}
	}()
	dev, err := fake.CreateDevice(sandboxDevice, sandboxTopic)
	if err != nil {
		return err
	}

	moved := make(chan struct{})
	var movedOnce sync.Once
	sub, err := kreditsmart.NewSubscriber(fake.Endpoint(), dev.Name,
		kreditsmart.WithClientCertificate(dev.Certificate),
		kreditsmart.WithRootCAs(fake.RootCAs()),
		kreditsmart.WithThing(dev.Name),
		kreditsmart.WithTopicPointer(kreditsmarttest.TopicPointer),
		kreditsmart.WithWatchShadow(true, 0),
		// The fake has no CONNECT throttle to respect; AWS IoT needs the
		// default of one second.
		kreditsmart.WithReconnectBackoff(50*time.Millisecond, time.Second),
		kreditsmart.WithLogger(env.log),
		kreditsmart.WithOnError(func(err error) { env.log.Warn("kreditsmart subscriber", "err", err) }),
		// Lifecycle events (topic changes, gaps) are shown, not counted:
		// the generator did not send them.
		kreditsmart.WithHandler(notifykit.HandlerFunc(func(_ context.Context, e notifykit.Event) error {
			env.out.print(e, nil)
			if _, ok := e.(*kreditsmart.TopicChange); ok {
				movedOnce.Do(func() { close(moved) })
			}
			return nil
		})),
	)
	if err != nil {
		return err
	}
	sub.OnNotification(func(_ context.Context, n *kreditsmart.Notification) error {
		env.handled(n, nil)
		return nil
	})
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	runErr := make(chan error, 1)
	go func() { runErr <- sub.Run(runCtx) }()

	// AWS IoT keeps nothing for a device that is not subscribed yet, and
	// neither does Europace: publish only once the subscription stands.
	if err := waitFor(ctx, env.traffic, func() bool { return sub.Topic() != "" }); err != nil {
		stop()
		if rerr := <-runErr; rerr != nil {
			return rerr
		}
		return err
	}

	moveAt := time.Now().Add(5 * time.Second)
	if d, ok := env.traffic.Deadline(); ok {
		moveAt = time.Now().Add(time.Until(d) / 2)
	}
	tree := kreditsmart.Partnerbaum(sandboxTopic)
	leaves := []string{"DEF34", "GHI56/JKL78", "MNO90"}
	t := time.NewTicker(env.interval())
	defer t.Stop()
	for i := 0; env.tick(t); i++ {
		if tree == sandboxTopic && time.Now().After(moveAt) {
			// Europace restructures the partner tree: the shadow names
			// the new topic, the subscriber subscribes it before leaving
			// the old one. Changes under the new tree are published once
			// the move is confirmed.
			fake.MoveTopic(dev.Name, sandboxMovedTo)
			select {
			case <-moved:
				tree = sandboxMovedTo
			case <-time.After(10 * time.Second):
				return fmt.Errorf("subscriber did not follow the partner-tree move")
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		full := string(tree) + "/" + leaves[i%len(leaves)]
		payload := kreditsmarttest.Payload(fmt.Sprintf("VN%06d", 245000+i), full, time.Now())
		n, err := kreditsmart.Decode(payload)
		if err != nil {
			return err
		}
		env.stats.sent(n.ID()) // before publishing: delivery may beat Publish's return
		if err := fake.Publish(kreditsmarttest.TopicFor(full), payload); err != nil {
			return fmt.Errorf("publishing as Europace: %w", err)
		}
	}

	drainCtx, cancel := context.WithTimeout(ctx, sandboxDrainTimeout)
	env.awaitSettled(drainCtx)
	cancel()
	stop()
	return <-runErr
}

// waitFor polls cond until it holds; it gives up when ctx or traffic ends.
func waitFor(ctx, traffic context.Context, cond func() bool) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-traffic.Done():
			return fmt.Errorf("not ready before the traffic phase ended")
		case <-t.C:
		}
	}
	return nil
}
