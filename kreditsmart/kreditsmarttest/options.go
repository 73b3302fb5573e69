package kreditsmarttest

import (
	"errors"
	"log/slog"
)

// Option configures NewServer and Start.
type Option func(*options) error

type options struct {
	log *slog.Logger
}

// WithLogger sends the fake's own log lines (connections it closes and
// why, as AWS IoT would) to l at debug level. Without it they go to the
// test (NewServer) or nowhere (Start).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return errors.New("kreditsmarttest: WithLogger: nil logger")
		}
		o.log = l
		return nil
	}
}
