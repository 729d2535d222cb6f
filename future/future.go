// Package future defines libasync's poll-based futures: the Future contract,
// wakers and the Context through which an executor lends its services, the
// Result type of fallible futures with the errors every part shares, and the
// executor-agnostic building blocks (combinators, Async/Await, oneshot,
// channel, Notify, bridges to context.Context and Go channels).
//
// A future does nothing until it is polled. Poll either returns Ready with the
// value, or returns Pending after it has arranged for the Context's Waker to
// be woken when polling again can make progress. A future is never polled
// again after it returned Ready. Whoever abandons a future before it is Ready
// calls its Drop method, if it has one, exactly once.
//
// The package performs no I/O and makes no system calls; executors live in
// package executor.
package future

import "reflect"

// Poll is the outcome of one poll: Ready with a value, or Pending.
// The zero Poll is Pending.
type Poll[T any] struct {
	value T
	ready bool
}

// Ready returns a Ready Poll that carries v.
func Ready[T any](v T) Poll[T] { return Poll[T]{value: v, ready: true} }

// Pending returns a Pending Poll.
func Pending[T any]() Poll[T] { return Poll[T]{} }

// IsReady reports whether p is Ready.
func (p Poll[T]) IsReady() bool { return p.ready }

// IsPending reports whether p is Pending.
func (p Poll[T]) IsPending() bool { return !p.ready }

// Value returns the value of a Ready Poll and true, or the zero value and
// false for a Pending one.
func (p Poll[T]) Value() (T, bool) { return p.value, p.ready }

// Future is an asynchronous computation that yields a T.
//
// Poll advances the computation as far as it can without blocking. It returns
// Ready(v) when the value is available, or Pending after arranging for
// cx.Waker() to be woken once polling again can make progress; a future that
// returns Pending without such an arrangement may never be polled again.
// Each Pending result must be preceded by such an arrangement with the waker
// of that poll: a future that kept an older waker must replace it (WillWake
// tells when the two are the same and the replacement can be skipped).
//
// Callers never poll a future again after it returned Ready, and never poll
// one concurrently with itself.
type Future[T any] interface {
	Poll(cx *Context) Poll[T]
}

// Dropper is implemented by futures that hold a resource (a timer entry, an
// I/O registration, a child future, a foreign state). Whoever abandons such a
// future before it returned Ready calls Drop exactly once, and never polls it
// afterwards. A future that completed needs no Drop and must tolerate none
// being called.
type Dropper interface {
	Drop()
}

// Drop calls f.Drop if f implements Dropper, and does nothing otherwise. It is
// the one way to abandon an arbitrary future.
func Drop(f any) {
	if d, ok := f.(Dropper); ok {
		d.Drop()
	}
}

// Wakeable is what a Waker wakes: a task, a parked goroutine, a host's
// callback. Wake must be safe to call from any goroutine, any number of
// times, also after the thing it wakes has finished (it then does nothing).
// Implementations coalesce: many wakes before the next poll cause one poll.
type Wakeable interface {
	Wake()
}

// Waker tells an executor that a future is worth polling again. It is a
// small value: copying it is cloning it, and it needs no release, because the
// garbage collector reclaims what it refers to. The zero Waker wakes nothing.
type Waker struct {
	target Wakeable
}

// NewWaker returns a Waker that calls t.Wake when woken. Any type of
// Wakeable serves, including ones that == cannot compare (a func type, a
// struct holding a slice): WillWake compares targets, so such a target is
// kept behind a pointer made here (one allocation), which copies of the
// returned Waker share. A target of a comparable type whose value holds an
// interface must hold comparable values there.
func NewWaker(t Wakeable) Waker {
	if t != nil && !reflect.TypeOf(t).Comparable() {
		t = &boxed{t}
	}
	return Waker{target: t}
}

// WakerFor returns a Waker that calls p.Wake when woken, for a target that
// is a pointer: pointers always compare, so, unlike NewWaker, it needs no
// check of the target's type. Executors make one per poll with it.
func WakerFor[P interface {
	*E
	Wakeable
}, E any](p P) Waker {
	return Waker{target: p}
}

// boxed gives a target that is not comparable an identity WillWake can
// compare.
type boxed struct{ Wakeable }

// NoopWaker returns a Waker whose Wake does nothing; it is the zero Waker.
func NoopWaker() Waker { return Waker{} }

// Wake asks for the future this Waker belongs to to be polled again. It is
// safe from any goroutine, any number of times; wakes coalesce. Wake never
// polls inline.
func (w Waker) Wake() {
	if w.target != nil {
		w.target.Wake()
	}
}

// IsZero reports whether w wakes nothing.
func (w Waker) IsZero() bool { return w.target == nil }

// WillWake reports whether w and o wake the same thing, so that a future may
// keep w instead of storing o. It may report false for wakers that do wake the
// same thing (never true for ones that don't).
func (w Waker) WillWake(o Waker) bool { return w.target == o.target }

// Context is handed to every poll. It carries the Waker of the task being
// polled and a slot in which the executor that polls lends its services
// (spawner, reactor, timers). Futures that need those services find them there
// by a type assertion on Services, so they take no runtime argument.
//
// A Context is valid only during the poll it was passed to; keep the Waker,
// never the Context.
type Context struct {
	waker    Waker
	services any
}

// NewContext returns a Context with waker w and the executor services s
// (nil when the caller lends none).
func NewContext(w Waker, s any) *Context { return &Context{waker: w, services: s} }

// Waker returns the waker of the current poll.
func (cx *Context) Waker() Waker { return cx.waker }

// Services returns what the polling executor lends, or nil.
func (cx *Context) Services() any { return cx.services }

// Reset sets the waker and services of cx, so that an executor can reuse one
// Context for many polls without allocating.
func (cx *Context) Reset(w Waker, s any) {
	cx.waker = w
	cx.services = s
}
