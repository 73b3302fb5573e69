package main

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"sync"
	"time"
)

// Scenario describes one benchmark. E is whatever Setup builds for both
// sides to share.
type Scenario[E any] struct {
	// Name is what users type: lower case letters, digits and dashes.
	Name string
	// Description is one line for the scenario list and the report header.
	Description string
	// Setup, optional, builds the shared environment once per process run.
	// The cleanup it returns (may be nil) runs after the last run, also when
	// a run fails.
	Setup func(ctx context.Context) (env E, cleanup func(), err error)
	// SDK and Baseline each do the scenario's work once and report it.
	SDK      func(ctx context.Context, env E) (Result, error)
	Baseline func(ctx context.Context, env E) (Result, error)
}

// Result is what one run of one side did.
type Result struct {
	// Count is the number of units processed (events, messages, requests).
	Count int
	// Duration is the time the work took. Zero means the runner's own
	// measurement of the whole call.
	Duration time.Duration
	// Notes are extra lines for the report (latencies, error counts, ...).
	Notes []string
}

// Rate is Count per second of Duration.
func (r Result) Rate() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.Count) / r.Duration.Seconds()
}

// side is one half of a scenario with its environment bound.
type side func(ctx context.Context) (Result, error)

// scenario is a Scenario with its environment type erased.
type scenario struct {
	name, description string
	setup             func(ctx context.Context) (sdk, baseline side, cleanup func(), err error)
}

// registry maps names to scenarios.
type registry struct {
	mu sync.Mutex
	m  map[string]*scenario
}

// scenarios holds everything registered from the scenario files' init.
var scenarios = &registry{}

var validName = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Register adds a scenario. It panics on a missing side, a malformed or a
// duplicate name: those are programming errors to catch at start-up.
func Register[E any](s Scenario[E]) { add(scenarios, s) }

func add[E any](reg *registry, s Scenario[E]) {
	if !validName.MatchString(s.Name) {
		panic(fmt.Sprintf("bench: invalid scenario name %q", s.Name))
	}
	if s.SDK == nil || s.Baseline == nil {
		panic(fmt.Sprintf("bench: scenario %q needs both SDK and Baseline", s.Name))
	}
	sc := &scenario{
		name:        s.Name,
		description: s.Description,
		setup: func(ctx context.Context) (side, side, func(), error) {
			var env E
			var cleanup func()
			if s.Setup != nil {
				var err error
				if env, cleanup, err = s.Setup(ctx); err != nil {
					return nil, nil, nil, err
				}
			}
			sdk := func(ctx context.Context) (Result, error) { return s.SDK(ctx, env) }
			base := func(ctx context.Context) (Result, error) { return s.Baseline(ctx, env) }
			return sdk, base, cleanup, nil
		},
	}
	reg.mu.Lock()
	defer reg.mu.Unlock()
	if reg.m == nil {
		reg.m = map[string]*scenario{}
	}
	if _, dup := reg.m[s.Name]; dup {
		panic(fmt.Sprintf("bench: scenario %q registered twice", s.Name))
	}
	reg.m[s.Name] = sc
}

func (r *registry) get(name string) (*scenario, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.m[name]
	return s, ok
}

func (r *registry) list() []*scenario {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*scenario, 0, len(r.m))
	for _, s := range r.m {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}
