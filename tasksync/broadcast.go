package tasksync

import (
	"fmt"

	"github.com/libasync/libasync/future"
)

// NewBroadcast returns the sending half of a broadcast channel: every value
// sent is received by every receiver subscribed at the time, in the order
// sent. The channel keeps the last capacity values in a ring; a sender never
// waits, and a receiver that falls more than capacity values behind loses
// the oldest ones and is told how many (*LaggedError). The ring keeps its
// values alive until they are overwritten. A capacity below 1 is
// ErrInvalid.
func NewBroadcast[T any](capacity int) (*BroadcastSender[T], error) {
	if capacity < 1 {
		return nil, ErrInvalid
	}
	return &BroadcastSender[T]{buf: make([]T, capacity)}, nil
}

// broadcast is the state the sender and receivers point to. Every field is
// guarded by mu; the waiters are the Recv futures waiting for a value.
type broadcast[T any] struct {
	sendState
	buf  []T    // the ring: value number i is buf[i%len(buf)] while i >= tail-len(buf)
	tail uint64 // values sent so far; the number of the next one
}

// BroadcastSender is the sending half of a broadcast channel. Its methods
// are safe from any goroutine. Go has no destructors: Close the sender when
// it is done (`defer s.Close()`), so that receivers learn the end.
type BroadcastSender[T any] broadcast[T]

// Send puts v in the ring, overwriting the oldest value once the ring is
// full, and wakes every waiting receiver. It never waits. It fails with
// future.ErrClosed, sending nothing, after Close.
func (s *BroadcastSender[T]) Send(v T) error {
	return s.send(func() {
		s.buf[s.tail%uint64(len(s.buf))] = v
		s.tail++
	})
}

// Subscribe returns a new receiver, which receives the values sent from now
// on.
func (s *BroadcastSender[T]) Subscribe() *BroadcastReceiver[T] {
	b := (*broadcast[T])(s)
	b.mu.Lock()
	defer b.mu.Unlock()
	return &BroadcastReceiver[T]{b: b, next: b.tail}
}

// Close closes the channel: later Sends fail, and receivers, once they
// have received the values still in the ring for them, get
// future.ErrClosed. Closing again does nothing.
func (s *BroadcastSender[T]) Close() { s.close() }

// LaggedError is what a broadcast receiver gets when the sender overwrote
// values it had not received yet. Missed says how many; the receiver then
// goes on from the oldest value the ring still holds.
type LaggedError struct{ Missed uint64 }

// Error says how many values were missed.
func (e *LaggedError) Error() string {
	return fmt.Sprintf("tasksync: broadcast receiver lagged and missed %d values", e.Missed)
}

// BroadcastReceiver is a receiving half of a broadcast channel. It keeps its
// place in the sequence of values, and serves one task at a time (its Recv
// future lives inside it); each task subscribes its own. A receiver that
// is no longer used needs no closing: it holds nothing the sender waits
// for.
type BroadcastReceiver[T any] struct {
	b    *broadcast[T]
	next uint64 // the number of the next value to receive
	w    future.Waiter[struct{}]
}

// take receives the next value if there is one; the caller holds mu.
func (r *BroadcastReceiver[T]) take() (future.Result[T], bool) {
	b := r.b
	if r.next == b.tail {
		return future.Result[T]{}, false
	}
	if oldest := b.tail - min(b.tail, uint64(len(b.buf))); r.next < oldest {
		missed := oldest - r.next
		r.next = oldest
		return future.Fail[T](&LaggedError{Missed: missed}), true
	}
	v := b.buf[r.next%uint64(len(b.buf))]
	r.next++
	return future.Ok(v), true
}

// TryRecv receives the next value without waiting. It returns
// future.ErrEmpty when there is none, future.ErrClosed when there is none
// and the sender is closed, and a *LaggedError when values were lost (the
// next call receives the oldest one kept).
func (r *BroadcastReceiver[T]) TryRecv() (T, error) {
	b := r.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if v, ok := r.take(); ok {
		return v.Value, v.Err
	}
	var zero T
	if b.closed {
		return zero, future.ErrClosed
	}
	return zero, future.ErrEmpty
}

// Recv returns a future that is Ready with Ok and the next value, with
// Fail(*LaggedError) when values were lost (the next Recv yields the oldest
// one kept), or with Fail(future.ErrClosed) once the sender is closed and
// every value was received. The future is r itself, so it costs no
// allocation; it must not be polled by two tasks at once.
//
// Cancel safety: cancel safe. Dropping the future before it is Ready loses
// nothing: a value is taken only by the poll that returns it, so the next
// Recv gets it.
func (r *BroadcastReceiver[T]) Recv() *BroadcastRecvFuture[T] {
	return (*BroadcastRecvFuture[T])(r)
}

// BroadcastRecvFuture is the future of BroadcastReceiver.Recv. Since it is
// its receiver, calling Recv again gives a new one, with nothing to Reset.
type BroadcastRecvFuture[T any] BroadcastReceiver[T]

// Poll receives the next value, or waits for a Send.
func (f *BroadcastRecvFuture[T]) Poll(cx *future.Context) future.Poll[future.Result[T]] {
	r := (*BroadcastReceiver[T])(f)
	b := r.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if v, ok := r.take(); ok {
		b.waiters.Leave(&r.w)
		return future.Ready(v)
	}
	return waitUnlessClosed[T](&b.sendState, &r.w, cx)
}

// Drop stops a pending wait, as described at Recv.
func (f *BroadcastRecvFuture[T]) Drop() { f.b.stopWaiting(&f.w) }
