package future

// WaitList is a FIFO of waiting futures, linked through Waiters that live
// inside those futures, so that waiting allocates nothing. It is the
// building block of the primitives that need only wakers: Notify, Channel
// and ChanReceiver here, and package tasksync's. P is what the primitive
// keeps per waiter (the permits a semaphore's waiter asks for); struct{}
// when it keeps nothing.
//
// A WaitList is not safe for concurrent use on its own: the primitive guards
// the list and every Waiter in it with its own lock, and calls each method
// with that lock held. The zero WaitList is empty and ready to use.
type WaitList[P any] struct{ head, tail *Waiter[P] }

// Waiter is the place of one future in a WaitList. Its zero value is a
// waiter that is neither queued nor woken. The list's lock guards every
// field, Data included.
type Waiter[P any] struct {
	prev, next *Waiter[P]
	waker      Waker
	// Data is the primitive's own per-waiter value. It comes before the
	// flags, so that a zero-sized P adds no padding at the end.
	Data   P
	queued bool
	// woken is set when a notifier took the waiter off the list to wake it,
	// so that a future dropped before it acted on the wake can pass it on.
	woken WakeKind
}

// WakeKind tells what took a waiter off its list.
type WakeKind uint8

const (
	// NotWoken: the waiter is queued, or has not waited since it was last
	// reset.
	NotWoken WakeKind = iota
	// WokenOne: a wake meant for this waiter alone that must not be lost (a
	// value, a room, a NotifyOne, permits handed over); a future dropped
	// before acting on it passes it on.
	WokenOne
	// WokenAll: a broadcast (a close, a NotifyAll): nothing to pass on.
	WokenAll
)

// Woken reports what took w off its list since it last waited: NotWoken
// while it is queued or was never woken.
func (w *Waiter[P]) Woken() WakeKind { return w.woken }

// Wait puts w at the tail with waker wk, or, if w is queued already, only
// refreshes its waker.
func (l *WaitList[P]) Wait(w *Waiter[P], wk Waker) {
	if w.queued {
		if !w.waker.WillWake(wk) {
			w.waker = wk
		}
		return
	}
	w.waker, w.woken, w.queued = wk, NotWoken, true
	w.prev, w.next = l.tail, nil
	if l.tail == nil {
		l.head = w
	} else {
		l.tail.next = w
	}
	l.tail = w
}

// Leave takes w off the list if it is queued and forgets any wake it got;
// its future is done with waiting. Data is left as it was.
func (l *WaitList[P]) Leave(w *Waiter[P]) {
	if w.queued {
		if w.prev == nil {
			l.head = w.next
		} else {
			w.prev.next = w.next
		}
		if w.next == nil {
			l.tail = w.prev
		} else {
			w.next.prev = w.prev
		}
		w.prev, w.next, w.queued = nil, nil, false
	}
	w.waker, w.woken = Waker{}, NotWoken
}

// Abandon takes w off the list for a future that stops waiting unfinished,
// and reports whether a notifier had chosen w for a wake that must not be
// lost (WokenOne), which the caller then passes on.
func (l *WaitList[P]) Abandon(w *Waiter[P]) (chosen bool) {
	chosen = w.woken == WokenOne
	l.Leave(w)
	return chosen
}

// Front returns the waiter at the head (the longest waiting), or nil when
// the list is empty; it stays queued.
func (l *WaitList[P]) Front() *Waiter[P] { return l.head }

// WakeOne takes the first waiter off the list, marks it woken by kind and
// returns its waker, for the caller to wake after unlocking. With no waiter
// it returns the zero Waker and false.
func (l *WaitList[P]) WakeOne(kind WakeKind) (Waker, bool) {
	w := l.head
	if w == nil {
		return Waker{}, false
	}
	l.head = w.next
	if l.head == nil {
		l.tail = nil
	} else {
		l.head.prev = nil
	}
	wk := w.waker
	w.prev, w.next, w.queued, w.waker, w.woken = nil, nil, false, Waker{}, kind
	return wk, true
}

// WakeAll wakes every waiter, marked WokenAll. It wakes under the caller's
// lock, because a waiter's fields may change as soon as the lock is released;
// Wake never polls inline, so this cannot re-enter the primitive.
func (l *WaitList[P]) WakeAll() {
	for {
		wk, ok := l.WakeOne(WokenAll)
		if !ok {
			return
		}
		wk.Wake()
	}
}

// The package's own primitives keep nothing per waiter.
type (
	waiter   = Waiter[struct{}]
	waitList = WaitList[struct{}]
)
