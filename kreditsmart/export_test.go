package kreditsmart

import "time"

// WithOverlapHold keeps the old and the new filter subscribed for d during
// a topic change, so that tests publish into the overlap for certain.
func WithOverlapHold(d time.Duration) Option {
	return func(o *options) error { o.overlapHold = d; return nil }
}
