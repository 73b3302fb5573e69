package pgdedupe

import "errors"

// ErrInvalidOption reports an option with an unusable value.
var ErrInvalidOption = errors.New("pgdedupe: invalid option")
