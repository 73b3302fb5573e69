package main

import (
	"fmt"
	"log/slog"
	"sync"
	"testing"
)

// programTB lets the CLI use the test doubles whose constructors take a
// testing.TB (kreditsmarttest.NewServer, dsgotest helpers) outside a test.
// Fatal panics with a tbFailure that runWithTB turns back into an error;
// Cleanup functions run, last first, when close is called.
//
// testing.TB has an unexported method, so the interface is embedded (nil):
// any method the doubles call that is not overridden here would panic, which
// the adapter's own test guards against for the methods in use.
type programTB struct {
	testing.TB
	log *slog.Logger

	mu       sync.Mutex
	cleanups []func()
}

type tbFailure struct{ msg string }

func newProgramTB(log *slog.Logger) *programTB { return &programTB{log: log} }

func (t *programTB) Helper() {}

func (t *programTB) Name() string { return "notifykit" }

func (t *programTB) Logf(format string, args ...any) {
	t.log.Debug(fmt.Sprintf(format, args...))
}

func (t *programTB) Log(args ...any) { t.log.Debug(fmt.Sprint(args...)) }

func (t *programTB) Errorf(format string, args ...any) { t.Fatalf(format, args...) }

func (t *programTB) Error(args ...any) { t.Fatal(args...) }

func (t *programTB) Fatal(args ...any) { panic(tbFailure{fmt.Sprint(args...)}) }

func (t *programTB) Fatalf(format string, args ...any) {
	panic(tbFailure{fmt.Sprintf(format, args...)})
}

func (t *programTB) FailNow() { panic(tbFailure{"FailNow called"}) }

func (t *programTB) Cleanup(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cleanups = append(t.cleanups, f)
}

// close runs the registered clean-ups in reverse order.
func (t *programTB) close() {
	t.mu.Lock()
	fs := t.cleanups
	t.cleanups = nil
	t.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

// withTB runs f, turning a Fatal inside a test double into an error.
func withTB(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			tf, ok := r.(tbFailure)
			if !ok {
				panic(r)
			}
			err = fmt.Errorf("starting the stand-in: %s", tf.msg)
		}
	}()
	f()
	return nil
}
