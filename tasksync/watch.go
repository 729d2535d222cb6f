package tasksync

import "github.com/libasync/libasync/future"

// NewWatch returns the sending half of a watch channel that holds initial:
// a single latest value, which any number of receivers (made by
// Subscribe) read, and whose changes they can wait for. A receiver that
// does not keep up sees only the latest value: intermediate ones are
// overwritten, never queued, so a slow receiver costs the sender nothing.
func NewWatch[T any](initial T) *WatchSender[T] {
	return &WatchSender[T]{value: initial}
}

// watch is the state both halves point to. Every field is guarded by mu;
// the waiters are the Changed futures waiting.
type watch[T any] struct {
	sendState
	value   T
	version uint64 // Sends so far; a receiver compares it with the version it saw
}

// WatchSender is the sending half of a watch channel. Its methods are safe
// from any goroutine. Go has no destructors: Close the sender when it is
// done (`defer s.Close()`), so that waiting receivers learn no change will
// come.
type WatchSender[T any] watch[T]

// Send replaces the value with v and wakes every receiver waiting in
// Changed. It fails with future.ErrClosed, storing nothing, after Close.
func (s *WatchSender[T]) Send(v T) error {
	return s.send(func() {
		s.value = v
		s.version++
	})
}

// Borrow returns the current value.
func (s *WatchSender[T]) Borrow() T { return (*watch[T])(s).load() }

// Subscribe returns a new receiver that has seen the current value: its
// Changed waits for the next Send.
func (s *WatchSender[T]) Subscribe() *WatchReceiver[T] {
	w := (*watch[T])(s)
	w.mu.Lock()
	defer w.mu.Unlock()
	return &WatchReceiver[T]{w: w, seen: w.version}
}

// Close closes the channel: later Sends fail, and every receiver waiting in
// Changed is woken and, having seen the last value, fails with
// future.ErrClosed. The last value stays readable. Closing again does
// nothing.
func (s *WatchSender[T]) Close() { s.close() }

func (w *watch[T]) load() T {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.value
}

// WatchReceiver is a receiving half of a watch channel: it reads the
// latest value and waits for changes. It remembers the last version it
// saw, so a change made while nobody waited is still reported. A receiver
// serves one task at a time (its Changed future lives inside it); Clone
// gives another task one of its own.
type WatchReceiver[T any] struct {
	w    *watch[T]
	seen uint64 // the version last marked seen
	wt   future.Waiter[struct{}]
}

// Borrow returns the current value without marking it seen.
func (r *WatchReceiver[T]) Borrow() T { return r.w.load() }

// BorrowAndUpdate returns the current value and marks it seen, so that
// Changed waits for a newer one.
func (r *WatchReceiver[T]) BorrowAndUpdate() T {
	w := r.w
	w.mu.Lock()
	defer w.mu.Unlock()
	r.seen = w.version
	return w.value
}

// HasChanged reports whether a value was sent that this receiver has not
// marked seen. Once the sender is closed and the last value was seen, it
// returns false and future.ErrClosed.
func (r *WatchReceiver[T]) HasChanged() (bool, error) {
	w := r.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if r.seen != w.version {
		return true, nil
	}
	if w.closed {
		return false, future.ErrClosed
	}
	return false, nil
}

// Clone returns a new receiver that has seen what r has seen.
func (r *WatchReceiver[T]) Clone() *WatchReceiver[T] {
	w := r.w
	w.mu.Lock()
	defer w.mu.Unlock()
	return &WatchReceiver[T]{w: w, seen: r.seen}
}

// Changed returns a future that is Ready with Ok and the latest value,
// marked seen, once a value newer than the last one r saw is there (at
// once if one is), or with Fail(future.ErrClosed) once the sender is
// closed and r has seen the last value. The future is r itself, so it
// costs no allocation; it must not be polled by two tasks at once.
//
// Cancel safety: cancel safe. Dropping the future before it is Ready only
// stops the wait; r has marked nothing seen, so a later Changed reports the
// change.
func (r *WatchReceiver[T]) Changed() *WatchChangedFuture[T] { return (*WatchChangedFuture[T])(r) }

// WatchChangedFuture is the future of WatchReceiver.Changed. Since it is
// its receiver, calling Changed again gives a new one, with nothing to
// Reset.
type WatchChangedFuture[T any] WatchReceiver[T]

// Poll yields the latest value if r has not seen it, or waits for a Send.
func (f *WatchChangedFuture[T]) Poll(cx *future.Context) future.Poll[future.Result[T]] {
	w := f.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if f.seen != w.version {
		f.seen = w.version
		w.waiters.Leave(&f.wt)
		return future.Ready(future.Ok(w.value))
	}
	return waitUnlessClosed[T](&w.sendState, &f.wt, cx)
}

// Drop stops a pending wait, as described at Changed.
func (f *WatchChangedFuture[T]) Drop() { f.w.stopWaiting(&f.wt) }
