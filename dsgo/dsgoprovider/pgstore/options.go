package pgstore

import (
	"errors"
	"fmt"
	"regexp"
)

// ErrInvalidOption reports an option with an unusable value.
var ErrInvalidOption = errors.New("pgstore: invalid option")

// Option configures a Store.
type Option func(*options) error

type options struct {
	prefix string
}

var prefixRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,40}$`)

// WithTablePrefix names the tables <prefix>_subscriptions,
// <prefix>_deliveries and <prefix>_attempts (default "dsgo"). Letters,
// digits and underscores only.
func WithTablePrefix(p string) Option {
	return func(o *options) error {
		if !prefixRE.MatchString(p) {
			return fmt.Errorf("%w: table prefix %q", ErrInvalidOption, p)
		}
		o.prefix = p
		return nil
	}
}
