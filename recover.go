package notifykit

import (
	"context"
	"fmt"
	"runtime/debug"
)

// PanicError is returned by a handler wrapped with Recover when it panicked.
type PanicError struct {
	// Value is what the handler passed to panic.
	Value any
	// Stack is the goroutine's stack at the time of the panic.
	Stack []byte
}

// Error implements the error interface.
func (p *PanicError) Error() string { return fmt.Sprintf("notifykit: handler panicked: %v", p.Value) }

// Unwrap returns the panic value when it was an error, so errors.Is sees
// through a panic(err).
func (p *PanicError) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}

// Recover turns a panic in the wrapped handler into a *PanicError carrying
// the stack, so one bad event cannot take the consumer down. The delivery
// then settles like any other failure (retried, then sent to the error
// destination).
func Recover() Middleware {
	return func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, e Event) (err error) {
			defer func() {
				if v := recover(); v != nil {
					err = &PanicError{Value: v, Stack: debug.Stack()}
				}
			}()
			return next.HandleEvent(ctx, e)
		})
	}
}
