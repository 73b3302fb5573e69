package pgdedupe

import (
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Option configures a Store.
type Option func(*options) error

type options struct {
	table           []string // unquoted parts: [table] or [schema, table]
	cleanupInterval time.Duration
	cleanupBatch    int
	logger          *slog.Logger
	onError         func(error)
}

func defaultOptions() options {
	return options{
		table:           []string{"notifykit_dedupe"},
		cleanupInterval: time.Minute,
		cleanupBatch:    10_000,
		logger:          slog.New(slog.DiscardHandler),
		onError:         func(error) {},
	}
}

// maxTableName leaves room for the "_expires" index suffix within
// PostgreSQL's 63-byte identifiers.
const maxTableName = 63 - len("_expires")

// WithTable sets the table ("name" or "schema.name"; the schema must
// exist). Names are quoted, so they are case-sensitive.
func WithTable(name string) Option {
	return func(o *options) error {
		parts := strings.Split(name, ".")
		if len(parts) > 2 {
			return fmt.Errorf("%w: table %q has more than one dot", ErrInvalidOption, name)
		}
		for _, p := range parts {
			if p == "" || len(p) > maxTableName || strings.ContainsRune(p, 0) {
				return fmt.Errorf("%w: table %q: each part must be 1..%d bytes", ErrInvalidOption, name, maxTableName)
			}
		}
		o.table = parts
		return nil
	}
}

// WithCleanupInterval sets how often (at most) an instance deletes expired
// rows; 0 turns the automatic cleanup off (call DeleteExpired yourself).
func WithCleanupInterval(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return fmt.Errorf("%w: negative cleanup interval %v", ErrInvalidOption, d)
		}
		o.cleanupInterval = d
		return nil
	}
}

// WithLogger sets the logger for background problems (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return fmt.Errorf("%w: nil logger", ErrInvalidOption)
		}
		o.logger = l
		return nil
	}
}

// WithOnError sets a function told about failures no caller waits for
// (the expiry cleanup).
func WithOnError(f func(error)) Option {
	return func(o *options) error {
		if f == nil {
			return fmt.Errorf("%w: nil OnError", ErrInvalidOption)
		}
		o.onError = f
		return nil
	}
}
