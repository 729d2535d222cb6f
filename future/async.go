package future

import (
	"errors"
	"iter"
)

// Async returns a future that runs body as straight-line code: the Go
// counterpart of an `async fn`. Inside body, Await(a, f) waits for f the way
// `.await` does: when f is Pending, the Async future returns Pending to
// whoever polls it, and the next poll resumes body where it stopped, with
// that poll's Context, so awaited futures see the current waker and the
// executor's services. The Async future is Ready with body's return value.
//
// Body does not start before the first poll. It runs on a coroutine
// (iter.Pull) that takes turns with the polling goroutine, never in
// parallel with it, so body needs no locking against its poller.
//
// Cost: a suspended Async future holds a coroutine, that is a goroutine
// stack of a few kilobytes, and starting one costs a few allocations. An
// explicit state machine (PollFn, the combinators, a struct with a Poll
// method) holds only its fields. Pick Async for convenience, state machines
// for scale (hundreds of thousands of pending futures).
//
// Panics: a panic in body (or in a future it awaits) is raised again, with
// the same value, by the Poll that resumed it; executors turn it into a
// *PanicError. The coroutine is finished by then.
//
// Drop: dropping an unfinished Async future drops the future body is
// awaiting, then unwinds body from that Await as a panic would, so its
// deferred calls run, and then the coroutine ends; no goroutine outlives
// Drop and body runs no further code of its own. The unwinding uses a
// private panic value: a deferred function in body that calls recover must
// panic again with any value it does not recognise, as Go code generally
// should; should it swallow the unwinding anyway, every later Await in body
// unwinds again at once. A panic raised by a deferred call during that
// unwinding reaches the caller of Drop. An Async future abandoned without
// Drop before it is Ready keeps its coroutine forever: callers must follow
// the Dropper contract.
func Async[T any](body func(a *Awaiter) T) Future[T] {
	return &asyncFuture[T]{body: body}
}

// Awaiter is the handle through which the body of an Async future awaits.
// It is valid only inside that body, on the body's own coroutine, while the
// body runs; see Await.
type Awaiter struct {
	cx      *Context // the Context of the poll now running body; nil while body is suspended or awaiting
	yield   func(struct{}) bool
	dropped bool // the Async future was dropped: body is unwinding
}

// errUnwind is the private panic value that unwinds a dropped body.
var errUnwind = errors.New("future: Async body unwound because its future was dropped")

// errAwaitOutside is the panic value of Await called where it may not be.
var errAwaitOutside = errors.New("future: Await called outside the running body of the Async future that owns the Awaiter")

// Await waits for f inside the body of the Async future that gave a, and
// returns f's value. It polls f right away and, while f is Pending, suspends
// body until the Async future is polled again, then polls f again with the
// new poll's Context. f is never polled after it was Ready, and if the Async
// future is dropped while Await waits, f is dropped, exactly once, before
// body unwinds.
//
// Await must be called on body's own goroutine while body runs, with the
// Awaiter body received. Misuse that can be told from that panics with an
// error saying so (a programming error, as using a sync.Mutex after copying
// it): a nil Awaiter, a call after body returned or while it is suspended
// (from another goroutine, say), from inside a future that Await is
// polling, or from the body of another Async future. A call from another
// goroutine at a moment when body is running cannot be told apart: it is a
// data race, which the race detector reports. Called after the Async future
// was dropped (a body that swallowed the unwinding), Await drops f and
// unwinds again.
func Await[T any](a *Awaiter, f Future[T]) T {
	if a == nil || a.cx == nil {
		if a != nil && a.dropped {
			Drop(f)
			panic(errUnwind)
		}
		panic(errAwaitOutside)
	}
	for {
		// a.cx is cleared while f polls, so that an Await on a from inside
		// f (another coroutine) is recognised as misuse.
		cx := a.cx
		a.cx = nil
		p := f.Poll(cx)
		if v, ok := p.Value(); ok {
			a.cx = cx
			return v
		}
		if !a.yield(struct{}{}) {
			// The Async future is being dropped: drop the innermost
			// resource first, as Rust drops an awaited future before the
			// enclosing locals, then unwind body.
			Drop(f)
			panic(errUnwind)
		}
	}
}

type asyncFuture[T any] struct {
	body   func(a *Awaiter) T // nil once the future is Ready or dropped
	a      Awaiter
	next   func() (struct{}, bool) // nil until the first poll and after the end
	stop   func()
	result T
}

// run is the coroutine: it runs body to its end, or until a dropped body
// has unwound.
func (f *asyncFuture[T]) run(yield func(struct{}) bool) {
	f.a.yield = yield
	defer func() {
		// However body ended, its Awaiter is no longer valid (a panic skips
		// the reset in Poll).
		f.a.cx = nil
		if f.a.dropped {
			// Only the unwinding of a drop is stopped here; any other
			// panic goes on to the caller of Drop.
			if r := recover(); r != nil && r != errUnwind {
				panic(r)
			}
		}
	}()
	f.result = f.body(&f.a)
}

func (f *asyncFuture[T]) Poll(cx *Context) Poll[T] {
	if f.next == nil {
		f.next, f.stop = iter.Pull(f.run)
	}
	f.a.cx = cx
	_, suspended := f.next() // a panic in body is raised again here by iter.Pull
	f.a.cx = nil
	if suspended {
		return Pending[T]()
	}
	f.release()
	return Ready(f.result)
}

func (f *asyncFuture[T]) release() {
	f.body, f.next, f.stop, f.a.yield = nil, nil, nil, nil
}

func (f *asyncFuture[T]) Drop() {
	stop := f.stop
	f.release()
	f.a.dropped = true
	if stop != nil {
		// Resumes body with Await's yield returning false; a body that
		// already ended (Ready or panicked) makes this a no-op.
		stop()
	}
}
