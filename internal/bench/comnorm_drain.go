package main

import (
	"context"
	"strings"
	"time"

	"github.com/notifykit/notifykit/internal/bench/comnormdrain"
)

// comnorm-drain: comnorm.Consumer draining 10,000 queued messages from our
// durable comnormserver against the naive serial loop (peek count=1,
// handle, delete) on the same server. The first SDK run also reports the
// server's post→peek→delete throughput and the long-poll wake-up latency.
func init() {
	Register(Scenario[*comnormDrainEnv]{
		Name:        "comnorm-drain",
		Description: "comnorm.Consumer vs naive peek/handle/delete loop, 10,000 messages, durable server",
		Setup:       setupComnormDrain,
		SDK: func(ctx context.Context, e *comnormDrainEnv) (Result, error) {
			d, err := e.DrainSDK(ctx)
			r := Result{Count: e.N, Duration: d}
			if err == nil && !e.reported {
				e.reported = true
				r.Notes = strings.Split(strings.TrimRight(e.summary, "\n"), "\n")
			}
			return r, err
		},
		Baseline: func(ctx context.Context, e *comnormDrainEnv) (Result, error) {
			d, err := e.DrainNaive(ctx)
			return Result{Count: e.N, Duration: d}, err
		},
	})
}

type comnormDrainEnv struct {
	*comnormdrain.Env
	summary  string
	reported bool
}

func setupComnormDrain(ctx context.Context) (*comnormDrainEnv, func(), error) {
	env, err := comnormdrain.Setup(ctx)
	if err != nil {
		return nil, nil, err
	}
	cycles, err := env.CycleThroughput(ctx, 3*time.Second)
	if err != nil {
		env.Close()
		return nil, nil, err
	}
	p50, p99, err := env.WakeupLatency(ctx, 300)
	if err != nil {
		env.Close()
		return nil, nil, err
	}
	return &comnormDrainEnv{Env: env, summary: comnormdrain.Summary(cycles, p50, p99)}, env.Close, nil
}
