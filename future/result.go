package future

import (
	"errors"
	"fmt"
)

// Result is the value of a fallible future: Future[Result[T]]. Exactly one of
// Value and Err is meaningful: when Err is nil, Value is the outcome.
type Result[T any] struct {
	Value T
	Err   error
}

// Ok returns a successful Result carrying v.
func Ok[T any](v T) Result[T] { return Result[T]{Value: v} }

// Fail returns a failed Result carrying err.
func Fail[T any](err error) Result[T] { return Result[T]{Err: err} }

// Unwrap returns the value and the error, in Go's usual order.
func (r Result[T]) Unwrap() (T, error) { return r.Value, r.Err }

// The errors shared by every part of libasync. Compare with errors.Is.
var (
	// ErrAborted is the outcome of a task cancelled before it completed,
	// as a JoinHandle reports it after Abort. (Futures that are dropped,
	// such as a Select's losers, report nothing at all.)
	ErrAborted = errors.New("libasync: aborted")
	// ErrClosed is the outcome of work refused or cut short because its
	// runtime, channel or resource was closed.
	ErrClosed = errors.New("libasync: closed")
	// ErrNoRuntime is returned by a future that needs an executor's services
	// (a reactor, timers, a spawner) when the polling executor lends none,
	// as with BlockOn.
	ErrNoRuntime = errors.New("libasync: no runtime in this context")
)

// PanicError is the outcome of a task whose future panicked: the panic never
// crashes the process, it is caught and delivered to whoever awaits the task.
type PanicError struct {
	Value any    // what was passed to panic
	Stack []byte // the panicking goroutine's stack, as runtime/debug.Stack gives it
}

// Error describes the panic value.
func (e *PanicError) Error() string { return fmt.Sprintf("libasync: task panicked: %v", e.Value) }

// Unwrap returns the panic value when it is an error, so that errors.Is and
// errors.As see through the panic.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}
