package notifykit_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/notifykit/notifykit"
)

// vorgangChanged stands in for any channel's event type, such as
// *kreditsmart.Notification or *banqup.TransactionEvent.
type vorgangChanged struct{ id, vorgang string }

func (v vorgangChanged) ID() string      { return v.id }
func (v vorgangChanged) Source() string  { return "kreditsmart" }
func (v vorgangChanged) Type() string    { return "kreditsmart.vorgang.changed" }
func (v vorgangChanged) Subject() string { return v.vorgang }
func (v vorgangChanged) Time() time.Time {
	return time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
}

func Example() {
	handle := notifykit.HandlerFunc(func(ctx context.Context, e notifykit.Event) error {
		fmt.Println("handled", e.Type(), e.Subject())
		return nil
	})
	// The same pipeline serves every channel: recover panics, drop
	// redelivered duplicates, then handle.
	h := notifykit.Chain(handle, notifykit.Recover(), notifykit.Dedupe(nil, 24*time.Hour))

	ctx := context.Background()
	_ = h.HandleEvent(ctx, vorgangChanged{id: "n-1", vorgang: "AB1234"})
	_ = h.HandleEvent(ctx, vorgangChanged{id: "n-1", vorgang: "AB1234"}) // redelivery: skipped
	_ = h.HandleEvent(ctx, vorgangChanged{id: "n-2", vorgang: "CD5678"})
	// Output:
	// handled kreditsmart.vorgang.changed AB1234
	// handled kreditsmart.vorgang.changed CD5678
}

func ExamplePermanent() {
	h := notifykit.HandlerFunc(func(ctx context.Context, e notifykit.Event) error {
		return notifykit.Permanent(errors.New("unknown account"))
	})
	err := h.HandleEvent(context.Background(), vorgangChanged{id: "n-1"})
	fmt.Println(notifykit.IsPermanent(err))
	// Output: true
}

func ExampleCoalesce() {
	// KreditSmart sends one notification per change of a Vorgang; a burst
	// of changes to the same Vorgang becomes one call with the latest.
	h := notifykit.Chain(notifykit.HandlerFunc(func(ctx context.Context, e notifykit.Event) error {
		fmt.Println("reload Vorgang", e.Subject(), "after", e.ID())
		return nil
	}), notifykit.Coalesce(50*time.Millisecond))

	done := make(chan struct{})
	for _, id := range []string{"n-1", "n-2", "n-3"} {
		go func() {
			_ = h.HandleEvent(context.Background(), vorgangChanged{id: id, vorgang: "AB1234"})
			done <- struct{}{}
		}()
		time.Sleep(5 * time.Millisecond)
	}
	for range 3 {
		<-done
	}
	// Output: reload Vorgang AB1234 after n-3
}

func ExampleCloudEvent() {
	b, _ := notifykit.CloudEvent(vorgangChanged{id: "n-1", vorgang: "AB1234"})
	fmt.Println(string(b))
	// Output: {"specversion":"1.0","id":"n-1","source":"kreditsmart","type":"kreditsmart.vorgang.changed","subject":"AB1234","time":"2026-11-23T09:00:00Z"}
}
