package main

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/notifykit/notifykit"
)

// selfcheck proves the runner end to end without brokers: the SDK side
// sends events through notifykit.Chain with Recover, the baseline calls the
// handler function directly. The ratio shows what the middleware plumbing
// costs per event.
func init() {
	Register(Scenario[[]notifykit.Event]{
		Name:        "selfcheck",
		Description: "notifykit.Chain(h, Recover()) vs a direct call, 5,000,000 events",
		Setup:       setupSelfcheck,
		SDK:         selfcheckSDK,
		Baseline:    selfcheckBaseline,
	})
}

// selfcheckEvents is a variable so the runner's test can keep it short
// under the race detector.
var selfcheckEvents = 5_000_000

// selfcheckEvent is the smallest notifykit.Event.
type selfcheckEvent struct{ id string }

func (e selfcheckEvent) ID() string      { return e.id }
func (selfcheckEvent) Source() string    { return "bench" }
func (selfcheckEvent) Type() string      { return "bench.selfcheck" }
func (e selfcheckEvent) Subject() string { return e.id }
func (selfcheckEvent) Time() time.Time   { return time.Time{} }

// A small ring of events, reused, keeps allocation out of the measurement.
func setupSelfcheck(context.Context) ([]notifykit.Event, func(), error) {
	evs := make([]notifykit.Event, 1024)
	for i := range evs {
		evs[i] = selfcheckEvent{id: strconv.Itoa(i)}
	}
	return evs, nil, nil
}

// selfcheckHandler does a little observable work so that neither side can
// be optimised away.
func selfcheckHandler(sum *atomic.Int64) func(context.Context, notifykit.Event) error {
	return func(_ context.Context, e notifykit.Event) error {
		sum.Add(int64(len(e.ID())))
		return nil
	}
}

func selfcheckSDK(ctx context.Context, evs []notifykit.Event) (Result, error) {
	var sum atomic.Int64
	h := notifykit.Chain(notifykit.HandlerFunc(selfcheckHandler(&sum)), notifykit.Recover())
	for i := range selfcheckEvents {
		if err := h.HandleEvent(ctx, evs[i%len(evs)]); err != nil {
			return Result{}, err
		}
	}
	return Result{Count: selfcheckEvents}, nil
}

func selfcheckBaseline(ctx context.Context, evs []notifykit.Event) (Result, error) {
	var sum atomic.Int64
	h := selfcheckHandler(&sum)
	for i := range selfcheckEvents {
		if err := h(ctx, evs[i%len(evs)]); err != nil {
			return Result{}, err
		}
	}
	return Result{Count: selfcheckEvents}, nil
}
