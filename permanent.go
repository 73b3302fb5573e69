package notifykit

import "errors"

// permanentError marks an error that retrying cannot fix.
type permanentError struct{ err error }

func (p *permanentError) Error() string { return "permanent: " + p.err.Error() }
func (p *permanentError) Unwrap() error { return p.err }

// Permanent marks err as not worth retrying: transports skip their retry
// policy and route the delivery straight to the error destination (an error
// queue, a dead-letter callback, a 4xx answer). Permanent(nil) is nil.
// errors.Is and errors.As still see the wrapped error.
func Permanent(err error) error {
	if err == nil || IsPermanent(err) {
		return err
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether any error in err's chain was marked with
// Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}
