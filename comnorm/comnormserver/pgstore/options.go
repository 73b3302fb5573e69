package pgstore

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"
)

// ErrInvalidOption reports an option with an unusable value.
var ErrInvalidOption = errors.New("pgstore: invalid option")

// Option configures a Store.
type Option func(*options) error

type options struct {
	prefix  string
	logger  *slog.Logger
	onError func(error)
}

var prefixRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,40}$`)

// WithTablePrefix names the tables <prefix>_queues and <prefix>_messages
// (default "comnorm"), e.g. to keep two independent services in one
// database. Letters, digits and underscores only.
func WithTablePrefix(p string) Option {
	return func(o *options) error {
		if !prefixRE.MatchString(p) {
			return fmt.Errorf("%w: table prefix %q", ErrInvalidOption, p)
		}
		o.prefix = p
		return nil
	}
}

// WithLogger sets the logger for connection problems of the wake-up
// listener (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return fmt.Errorf("%w: nil logger", ErrInvalidOption)
		}
		o.logger = l
		return nil
	}
}

// WithOnError sets a function told about failures no request waits for:
// the wake-up listener losing its connection.
func WithOnError(f func(error)) Option {
	return func(o *options) error {
		if f == nil {
			return fmt.Errorf("%w: nil OnError", ErrInvalidOption)
		}
		o.onError = f
		return nil
	}
}
