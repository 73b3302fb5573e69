package notifykit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// testEvent is a minimal Event for the middleware tests.
type testEvent struct {
	id, subject string
	n           int
}

func (e testEvent) ID() string      { return e.id }
func (e testEvent) Source() string  { return "test" }
func (e testEvent) Type() string    { return "test.thing.changed" }
func (e testEvent) Subject() string { return e.subject }
func (e testEvent) Time() time.Time { return time.Time{} }

func TestChainOrdersOutermostFirst(t *testing.T) {
	var trace []string
	mw := func(name string) Middleware {
		return func(next Handler) Handler {
			return HandlerFunc(func(ctx context.Context, e Event) error {
				trace = append(trace, name)
				return next.HandleEvent(ctx, e)
			})
		}
	}
	h := Chain(HandlerFunc(func(context.Context, Event) error {
		trace = append(trace, "handler")
		return nil
	}), mw("a"), mw("b"))
	if err := h.HandleEvent(context.Background(), testEvent{}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(trace, ","); got != "a,b,handler" {
		t.Fatalf("order = %s", got)
	}
}

func TestPermanent(t *testing.T) {
	base := errors.New("bad account number")
	err := fmt.Errorf("handling: %w", Permanent(base))
	if !IsPermanent(err) {
		t.Fatal("IsPermanent lost through wrapping")
	}
	if !errors.Is(err, base) {
		t.Fatal("errors.Is cannot see the wrapped error")
	}
	if Permanent(nil) != nil {
		t.Fatal("Permanent(nil) != nil")
	}
	if IsPermanent(base) || IsPermanent(nil) {
		t.Fatal("unmarked error reported permanent")
	}
	if p := Permanent(Permanent(base)); strings.Count(p.Error(), "permanent") != 1 {
		t.Fatalf("double wrap: %v", p)
	}
}

func TestRecoverTurnsPanicIntoError(t *testing.T) {
	sentinel := errors.New("boom")
	h := Chain(HandlerFunc(func(context.Context, Event) error { panic(sentinel) }), Recover())
	err := h.HandleEvent(context.Background(), testEvent{})
	var pe *PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want *PanicError", err)
	}
	if !errors.Is(err, sentinel) {
		t.Fatal("panic(err) not visible to errors.Is")
	}
	if !strings.Contains(string(pe.Stack), "notifykit_test") {
		t.Fatalf("stack does not show the panicking frame:\n%s", pe.Stack)
	}
	ok := Chain(HandlerFunc(func(context.Context, Event) error { return nil }), Recover())
	if err := ok.HandleEvent(context.Background(), testEvent{}); err != nil {
		t.Fatal(err)
	}
}
