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
//
// The run is bound by WAL fsyncs (fsync on: each post and each delete is a
// durable commit) and by CPU on a 2-core machine. The ratio used to be
// ~0.92 because posts NOTIFYed inside their transaction, and PostgreSQL
// holds a database-wide lock across a notifying commit's WAL flush: with
// more connections posts queued on that lock (wait event Lock:object)
// instead of sharing fsyncs. pgqueue now publishes wake-ups after the
// commit, batched, from an asynchronously committing connection
// (pglisten.Publisher).
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
