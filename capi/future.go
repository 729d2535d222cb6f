//go:build (linux || darwin || netbsd || windows) && (amd64 || arm64) && cgo

package main

import (
	"errors"
	"sync"

	"github.com/libasync/libasync/capi/ffi"
	"github.com/libasync/libasync/executor"
	"github.com/libasync/libasync/future"
)

// result is the outcome of a task or a runtime future.
type result struct {
	code  ffi.Code
	val   uint64
	msg   string
	errno int64
}

// resultOf maps a Go outcome to the ABI's.
func resultOf(v uint64, err error) result {
	if err == nil {
		return result{code: ffi.OK, val: v}
	}
	var pe *future.PanicError
	var fe *ffi.Error
	switch {
	case errors.As(err, &pe):
		return result{code: ffi.EPANIC, msg: pe.Error()}
	case errors.Is(err, future.ErrAborted):
		return result{code: ffi.ECANCELED, msg: "libasync: the task was aborted"}
	case errors.Is(err, future.ErrClosed):
		return result{code: ffi.ECLOSED, msg: errRuntimeClosed.Msg}
	case errors.Is(err, executor.ErrTimeout):
		return result{code: ffi.ETIMEDOUT, msg: err.Error()}
	case errors.As(err, &fe):
		return result{code: fe.Code, msg: fe.Msg, errno: fe.Errno}
	}
	return result{code: ffi.EIO, msg: err.Error(), errno: ffi.ErrnoOf(err)}
}

// futureObj is the object behind a KindFuture handle: a runtime future. Its work
// runs on its own (as a task of the runtime, or driven by another object)
// and ends in complete; polls and async_block_on read the outcome.
type futureObj struct {
	rt *runtimeObj
	hw ffi.HostWaker

	mu    sync.Mutex
	done  bool
	res   result
	freed bool
	// unfreed is closed when the free that set freed has finished; it is
	// made by a second free that has to wait for that (most frees are
	// the only one, and need none).
	unfreed  chan struct{}
	freeDone bool
	waiters  []chan struct{}
	// then are called once, after completion, outside mu.
	then []func(result)
	// cancel stops the future's work when it is freed unfinished.
	cancel func()
	// release runs when the future is freed; observed says whether the host
	// saw the outcome (an accept or connect that completed unseen closes
	// the stream it made).
	release func(observed bool)
	// observed is set once the outcome was returned to the host.
	observed bool
	// drive is set for a cold future (a read): it makes progress only when
	// polled, by whoever polls the future (async_future_poll, async_block_on,
	// a timeout that owns it), with a Context whose waker is the future.
	drive func(cx *future.Context) (result, bool)
	// holding is set while the future keeps a host-driven runtime's default
	// run going (from creation until it completes or is freed).
	holding bool
}

// newFuture registers a new future with rt, or fails if rt is closed.
func newFuture(rt *runtimeObj) (*futureObj, error) {
	o := &futureObj{rt: rt, holding: rt.host != nil}
	if !rt.addFuture(o) {
		return nil, errRuntimeClosed
	}
	if o.holding {
		rt.host.KeepAlive(1)
	}
	return o, nil
}

// letGo ends the future's hold on a host-driven runtime's default run, once;
// the caller holds o.mu and calls the returned function after unlocking.
func (o *futureObj) letGo() (release func()) {
	if !o.holding {
		return func() {}
	}
	o.holding = false
	return func() { o.rt.host.KeepAlive(-1) }
}

// complete fixes the outcome (the first call wins, and reports true),
// wakes the host's waker (drops it, once the runtime is closing) and runs
// the continuations.
func (o *futureObj) complete(r result) bool { return o.settle(r, true) }

// settle is complete; wake false leaves the host's waker alone, for a
// completion inside the host's own poll.
func (o *futureObj) settle(r result, wake bool) bool {
	o.mu.Lock()
	if o.done {
		o.mu.Unlock()
		return false
	}
	o.done, o.res = true, r
	waiters, then := o.waiters, o.then
	o.waiters, o.then = nil, nil
	release := o.letGo()
	o.mu.Unlock()
	release()
	for _, w := range waiters {
		close(w)
	}
	for _, f := range then {
		f(r)
	}
	if wake {
		o.wakeHost()
	}
	return true
}

// Wake is the future as the waker of its own work (a cold future's reactor wait):
// it releases the threads blocked on the future and wakes the host's waker.
func (o *futureObj) Wake() {
	o.mu.Lock()
	waiters := o.waiters
	o.waiters = nil
	o.mu.Unlock()
	for _, w := range waiters {
		close(w)
	}
	o.wakeHost()
}

// wakeHost wakes the host's waker, or drops it once the runtime is closing
// (a close drops the clones it holds rather than waking them).
func (o *futureObj) wakeHost() {
	if o.rt.isClosed() {
		o.hw.Clear()
	} else {
		o.hw.Wake()
	}
}

// step drives a cold future once on the calling thread, completing it (quietly)
// when its work is done; it does nothing for other futures.
func (o *futureObj) step() {
	if o.drive == nil {
		return
	}
	o.stepWith(future.NewContext(future.NewWaker(o), o.rt.ex))
}

// stepWith is step for a cold future, polled with cx (the context of a timeout
// that owns it, whose waker is the timeout's).
func (o *futureObj) stepWith(cx *future.Context) {
	o.mu.Lock()
	done := o.done
	o.mu.Unlock()
	if done {
		return
	}
	if r, ok := o.drive(cx); ok {
		o.settle(r, false)
	}
}

// onDone calls f with the outcome once the future completes (at once if it
// has).
func (o *futureObj) onDone(f func(result)) {
	o.mu.Lock()
	if !o.done {
		o.then = append(o.then, f)
		o.mu.Unlock()
		return
	}
	r := o.res
	o.mu.Unlock()
	f(r)
}

// poll implements async_future_poll.
func (o *futureObj) poll(w *ffi.Waker) (result, bool) {
	if r, ok := o.outcome(); ok {
		o.hw.Clear()
		return r, true
	}
	o.hw.Set(w)
	// A completion between the first look and Set found no clone to
	// wake; looking again after Set catches it. A cold future does its work
	// here, after Set, so that a wake of its wait is never lost.
	o.step()
	if r, ok := o.outcome(); ok {
		o.hw.Clear()
		return r, true
	}
	return result{code: ffi.Pending}, false
}

// outcome returns the result if the future completed, marking it observed.
func (o *futureObj) outcome() (result, bool) {
	o.mu.Lock()
	if !o.done {
		o.mu.Unlock()
		return result{}, false
	}
	o.observed = true
	r := o.res
	o.mu.Unlock()
	return r, true
}

// peek returns the result if the future completed, without marking it
// observed.
func (o *futureObj) peek() (result, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.res, o.done
}

// wait returns a channel closed at completion (nil if completed).
func (o *futureObj) wait() chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.done {
		return nil
	}
	c := make(chan struct{})
	o.waiters = append(o.waiters, c)
	return c
}

// free implements async_future_free (and the release of a future that
// another one owns): stops unfinished work, drops the host's waker clone
// and waits until no vtable call on it is in flight.
//
// A second free (the owner's, while the first is a timeout's release on
// a worker, or the other way round) returns only once the first finished:
// the host may free what the future pointed to as soon as either returns.
func (o *futureObj) free(observed bool) {
	o.mu.Lock()
	if o.freed {
		if o.freeDone {
			o.mu.Unlock()
			return
		}
		if o.unfreed == nil {
			o.unfreed = make(chan struct{})
		}
		wait := o.unfreed
		o.mu.Unlock()
		<-wait
		return
	}
	defer o.freeFinished()
	o.freed = true
	cancel, release := o.cancel, o.release
	done := o.done
	observed = observed || o.observed
	letGo := o.letGo()
	o.mu.Unlock()
	letGo()
	// The clone is dropped before the work is cancelled: the completion
	// that the cancel causes on a worker then finds no clone to wake (a
	// freed future's waker is dropped, not woken). Seen under Wine, where
	// the aborted task's drop often ran before a Clear placed after it.
	o.hw.Clear()
	if !done && cancel != nil {
		cancel()
	}
	if release != nil {
		release(observed)
	}
	// Again, for a poll that raced the free and set a clone meanwhile.
	o.hw.Clear()
	o.rt.removeFuture(o)
}

// freeFinished releases the frees that wait for the first one.
func (o *futureObj) freeFinished() {
	o.mu.Lock()
	o.freeDone = true
	wait := o.unfreed
	o.mu.Unlock()
	if wait != nil {
		close(wait)
	}
}

// futureTask runs a Go future as a task whose outcome completes a future.
type futureTask[T any] struct {
	o    *futureObj
	f    future.Future[T]
	conv func(T) result
}

func (t *futureTask[T]) Poll(cx *future.Context) (p future.Poll[struct{}]) {
	defer func() {
		if r := recover(); r != nil {
			future.Drop(t.f)
			t.o.complete(resultOf(0, &future.PanicError{Value: r}))
			p = future.Ready(struct{}{})
		}
	}()
	v, ok := t.f.Poll(cx).Value()
	if !ok {
		return future.Pending[struct{}]()
	}
	t.o.complete(t.conv(v))
	return future.Ready(struct{}{})
}

// Drop abandons the work: the runtime closed or the future was freed.
func (t *futureTask[T]) Drop() {
	future.Drop(t.f)
	t.o.complete(result{code: ffi.ECLOSED, msg: errRuntimeClosed.Msg})
}

// startFuture spawns f on o's runtime; its value, converted by conv, completes
// o. Freeing o unfinished aborts the task.
func startFuture[T any](o *futureObj, f future.Future[T], conv func(T) result) error {
	jh, err := executor.Spawn[struct{}](o.rt.ex, &futureTask[T]{o: o, f: f, conv: conv})
	if err != nil {
		future.Drop(f)
		return errRuntimeClosed
	}
	o.mu.Lock()
	o.cancel = jh.Abort
	o.mu.Unlock()
	return nil
}
