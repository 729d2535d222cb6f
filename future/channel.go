package future

import (
	"errors"
	"fmt"
	"sync"
)

// Errors of the non-blocking channel operations. Compare with errors.Is.
var (
	// ErrFull is returned by TrySend when the channel has no room.
	ErrFull = errors.New("future: channel full")
	// ErrEmpty is returned by TryRecv when no value is waiting.
	ErrEmpty = errors.New("future: channel empty")
)

// Channel is a bounded, multi-producer, multi-consumer FIFO channel whose
// Send and Recv are futures: a Send waits for room, a Recv for a value, both
// through wakers, so no goroutine blocks.
//
// Values sent by one producer are received in the order it sent them. Close
// wakes every waiting Send and Recv; values sent before Close are still
// received, after which Recv yields ErrClosed. A Send or Recv future dropped
// while waiting leaves the channel at once (its waker is released), and one
// that had been chosen for a wake passes that wake on to the next waiter, so
// no value or room is left unannounced.
//
// All methods are safe from any goroutine.
type Channel[T any] struct {
	mu     sync.Mutex
	buf    []T // ring of len(buf) == capacity
	head   int // index of the oldest value
	n      int // values in buf
	closed bool
	recvq  waitList // Recv futures waiting for a value
	sendq  waitList // Send futures waiting for room
}

// NewChannel returns an open channel that holds up to capacity values. A
// capacity below 1 is an error.
func NewChannel[T any](capacity int) (*Channel[T], error) {
	if capacity < 1 {
		return nil, fmt.Errorf("future: channel capacity %d, want at least 1", capacity)
	}
	return &Channel[T]{buf: make([]T, capacity)}, nil
}

// Cap returns the capacity the channel was made with.
func (c *Channel[T]) Cap() int { return len(c.buf) }

// Len returns the number of values waiting to be received.
func (c *Channel[T]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// Close closes the channel: later sends fail with ErrClosed, every waiting
// Send and Recv is woken, and receivers get the values already in the
// channel before ErrClosed. Closing again does nothing.
func (c *Channel[T]) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.closed = true
	c.recvq.WakeAll()
	c.sendq.WakeAll()
}

// TrySend puts v in the channel if there is room, without waiting. It
// returns ErrClosed if the channel is closed and ErrFull if it has no room;
// in both cases v is not sent.
func (c *Channel[T]) TrySend(v T) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	if c.n == len(c.buf) {
		c.mu.Unlock()
		return ErrFull
	}
	wk := c.push(v)
	c.mu.Unlock()
	wk.Wake()
	return nil
}

// TryRecv takes the oldest value without waiting. It returns ErrEmpty if no
// value is waiting, and ErrClosed if none is and the channel is closed.
func (c *Channel[T]) TryRecv() (T, error) {
	c.mu.Lock()
	if c.n == 0 {
		closed := c.closed
		c.mu.Unlock()
		var zero T
		if closed {
			return zero, ErrClosed
		}
		return zero, ErrEmpty
	}
	v, wk := c.pop()
	c.mu.Unlock()
	wk.Wake()
	return v, nil
}

// push appends v (the caller checked for room) and returns the waker of the
// receiver it chose to announce the value to, for waking after unlocking.
func (c *Channel[T]) push(v T) Waker {
	c.buf[(c.head+c.n)%len(c.buf)] = v
	c.n++
	wk, _ := c.recvq.WakeOne(WokenOne)
	return wk
}

// pop removes the oldest value (the caller checked there is one) and returns
// it with the waker of the sender it chose to announce the room to.
func (c *Channel[T]) pop() (T, Waker) {
	var zero T
	v := c.buf[c.head]
	c.buf[c.head] = zero // the channel must not keep the value alive
	c.head = (c.head + 1) % len(c.buf)
	c.n--
	wk, _ := c.sendq.WakeOne(WokenOne)
	return v, wk
}

// Send returns a future that puts v in the channel, waiting for room, and
// is Ready with Ok once v is in, or with Fail(ErrClosed) if the channel is
// closed first (v is then not sent). Dropping it while it waits abandons v.
func (c *Channel[T]) Send(v T) *SendFuture[T] { return &SendFuture[T]{c: c, v: v} }

// SendFuture is the future of Channel.Send. Reset lets one SendFuture send
// any number of values without an allocation.
type SendFuture[T any] struct {
	c *Channel[T]
	v T
	w waiter
}

// Poll sends the value if there is room, or waits for room.
func (f *SendFuture[T]) Poll(cx *Context) Poll[Result[struct{}]] {
	c := f.c
	c.mu.Lock()
	if c.closed {
		c.sendq.Leave(&f.w)
		c.mu.Unlock()
		return Ready(Fail[struct{}](ErrClosed))
	}
	if c.n < len(c.buf) {
		c.sendq.Leave(&f.w)
		wk := c.push(f.v)
		c.mu.Unlock()
		var zero T
		f.v = zero
		wk.Wake()
		return Ready(Ok(struct{}{}))
	}
	c.sendq.Wait(&f.w, cx.Waker())
	c.mu.Unlock()
	return Pending[Result[struct{}]]()
}

// Drop abandons a waiting send: the value is not sent, and a wake this
// sender had been given for a free room goes to the next waiting sender.
func (f *SendFuture[T]) Drop() {
	c := f.c
	var wk Waker
	c.mu.Lock()
	if c.sendq.Abandon(&f.w) && c.n < len(c.buf) {
		wk, _ = c.sendq.WakeOne(WokenOne)
	}
	c.mu.Unlock()
	wk.Wake()
}

// Recv returns a future that is Ready with Ok and the oldest value once
// there is one, or with Fail(ErrClosed) once the channel is closed and
// drained.
func (c *Channel[T]) Recv() *RecvFuture[T] { return &RecvFuture[T]{c: c} }

// RecvFuture is the future of Channel.Recv. Held by value and Reset after
// each value, one RecvFuture receives any number of values without an
// allocation.
type RecvFuture[T any] struct {
	c *Channel[T]
	w waiter
}

// Poll takes a value if there is one, or waits for one.
func (f *RecvFuture[T]) Poll(cx *Context) Poll[Result[T]] {
	c := f.c
	c.mu.Lock()
	if c.n > 0 {
		c.recvq.Leave(&f.w)
		v, wk := c.pop()
		c.mu.Unlock()
		wk.Wake()
		return Ready(Ok(v))
	}
	if c.closed {
		c.recvq.Leave(&f.w)
		c.mu.Unlock()
		return Ready(Fail[T](ErrClosed))
	}
	c.recvq.Wait(&f.w, cx.Waker())
	c.mu.Unlock()
	return Pending[Result[T]]()
}

// Drop abandons a waiting receive; a wake this receiver had been given for
// a value goes to the next waiting receiver.
func (f *RecvFuture[T]) Drop() {
	c := f.c
	var wk Waker
	c.mu.Lock()
	if c.recvq.Abandon(&f.w) && c.n > 0 {
		wk, _ = c.recvq.WakeOne(WokenOne)
	}
	c.mu.Unlock()
	wk.Wake()
}

// Reset makes f a new Send of v on the same channel. A send that is still
// waiting is abandoned first, as by Drop.
func (f *SendFuture[T]) Reset(v T) {
	f.Drop() // leaves f.w as new
	f.v = v
}

// Reset makes f a new Recv on the same channel, so it may be polled again
// after it was Ready. A receive that is still waiting is abandoned first, as
// by Drop.
func (f *RecvFuture[T]) Reset() { f.Drop() } // Drop leaves f.w as new
