package main

import (
	"context"
	"fmt"

	"github.com/notifykit/notifykit/internal/bench/comnormpg"
)

// comnorm-pg-scale: post→peek→delete through comnormserver instances
// sharing one PostgreSQL (issue 8). The "SDK" side runs two instances, the
// baseline one, with the same clients, so the RATIO line is two/one: at or
// above 1.0 a second instance never makes things slower.
func init() {
	Register(Scenario[*comnormpg.Bench]{
		Name:        "comnorm-pg-scale",
		Description: "post→peek→delete, 8 queues × 250 messages, two comnormserver instances vs one on the same PostgreSQL",
		Setup: func(ctx context.Context) (*comnormpg.Bench, func(), error) {
			b, err := comnormpg.New(ctx, comnormpg.Config{})
			if err != nil {
				return nil, nil, fmt.Errorf("comnorm-pg-scale needs PostgreSQL (apt-get install -y postgresql): %w", err)
			}
			return b, func() { _ = b.Close() }, nil
		},
		SDK:      func(ctx context.Context, b *comnormpg.Bench) (Result, error) { return pgScaleRun(ctx, b, 2) },
		Baseline: func(ctx context.Context, b *comnormpg.Bench) (Result, error) { return pgScaleRun(ctx, b, 1) },
	})
}

func pgScaleRun(ctx context.Context, b *comnormpg.Bench, instances int) (Result, error) {
	n, d, err := b.Run(ctx, instances)
	return Result{Count: n, Duration: d}, err
}
