package future

import "sync"

// NewOneshot returns the two ends of a channel that carries a single value:
// the sender sends it once, the receiver is a future that yields it. Both
// ends share one allocation.
func NewOneshot[T any]() (*OneshotSender[T], *OneshotReceiver[T]) {
	o := new(oneshot[T])
	return (*OneshotSender[T])(o), (*OneshotReceiver[T])(o)
}

// oneshot is the state both ends point to.
type oneshot[T any] struct {
	mu    sync.Mutex
	state oneshotState
	value T
	waker Waker // the receiver's, while it waits
}

type oneshotState uint8

const (
	oneshotEmpty        oneshotState = iota // nothing sent yet, both ends live
	oneshotSent                             // value holds the sent value
	oneshotSenderClosed                     // the sender closed without sending
	oneshotDone                             // the receiver took the value, or went away
)

// OneshotSender is the sending end of a oneshot. Its methods are safe from
// any goroutine.
type OneshotSender[T any] oneshot[T]

// OneshotReceiver is the receiving end of a oneshot: a Future that is Ready
// with Ok(v) once v was sent, or with Fail(ErrClosed) once the sender closed
// without sending. Like any future it is polled by one caller at a time;
// dropping it before it is Ready releases its waker and makes later sends
// fail.
type OneshotReceiver[T any] oneshot[T]

// Send delivers v to the receiver and wakes it. It returns ErrClosed, and v
// is not delivered, if a value was sent already, the sender was closed, or
// the receiver was dropped.
func (s *OneshotSender[T]) Send(v T) error {
	o := (*oneshot[T])(s)
	o.mu.Lock()
	if o.state != oneshotEmpty {
		o.mu.Unlock()
		return ErrClosed
	}
	o.value, o.state = v, oneshotSent
	w := o.waker
	o.waker = Waker{}
	o.mu.Unlock()
	w.Wake()
	return nil
}

// Close ends the sender without sending: a receiver still waiting is woken
// and yields Fail(ErrClosed). After a Send, or a second time, it does nothing.
func (s *OneshotSender[T]) Close() {
	o := (*oneshot[T])(s)
	o.mu.Lock()
	if o.state != oneshotEmpty {
		o.mu.Unlock()
		return
	}
	o.state = oneshotSenderClosed
	w := o.waker
	o.waker = Waker{}
	o.mu.Unlock()
	w.Wake()
}

// ReceiverDropped reports whether the receiver was dropped or has already
// taken a value, so that a sender can skip work nobody waits for.
func (s *OneshotSender[T]) ReceiverDropped() bool {
	o := (*oneshot[T])(s)
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.state == oneshotDone
}

// Poll yields the sent value, or ErrClosed once the sender closed without
// sending.
func (r *OneshotReceiver[T]) Poll(cx *Context) Poll[Result[T]] {
	o := (*oneshot[T])(r)
	o.mu.Lock()
	switch o.state {
	case oneshotSent:
		v := o.value
		var zero T
		o.value, o.state = zero, oneshotDone
		o.mu.Unlock()
		return Ready(Ok(v))
	case oneshotSenderClosed:
		o.state = oneshotDone
		o.mu.Unlock()
		return Ready(Fail[T](ErrClosed))
	}
	if w := cx.Waker(); !o.waker.WillWake(w) {
		o.waker = w
	}
	o.mu.Unlock()
	return Pending[Result[T]]()
}

// Drop abandons the receiver: its waker is released, a value sent but not
// received is released too, and later sends return ErrClosed.
func (r *OneshotReceiver[T]) Drop() {
	o := (*oneshot[T])(r)
	o.mu.Lock()
	var zero T
	o.state, o.value, o.waker = oneshotDone, zero, Waker{}
	o.mu.Unlock()
}
