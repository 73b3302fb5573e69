// Package comnormpg measures the comnorm-pg-scale benchmark: post → peek →
// delete throughput of comnorm server instances sharing one PostgreSQL,
// with one instance versus two. The bench runner (internal/bench) reports
// Rate(ctx, 2) / Rate(ctx, 1) as RATIO comnorm-pg-scale.
//
// Each instance is what one server process has: a comnormserver with the
// PostgreSQL store (comnormserver/pgstore), its own connection pool
// (MaxConns 4, pgxpool's default on small machines), its own LISTEN
// connection and its own HTTP listener; clients use the comnorm SDK over
// real HTTP. The clients are the same in both runs — Queues queues, each
// with one sender and one consumer (ComNorm's single consumer per queue),
// consumers peeking up to 10 messages with a long poll — and are spread
// round-robin over the instances. So the ratio shows whether a second
// instance adds capacity (r > 1), costs nothing (r ≈ 1) or gets in the way
// (r < 1) on the same database.
package comnormpg
