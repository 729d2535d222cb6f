package future

// waiter is the place of one pending future (a Recv, a Send, a Notified) in
// the wait list of the primitive it waits on. It lives inside that future, so
// waiting allocates nothing, and every field is guarded by the primitive's
// mutex.
type waiter struct {
	prev, next *waiter
	waker      Waker
	queued     bool
	// woken is set when a notifier took the waiter off the list to wake it,
	// so that a future dropped before it acted on the wake can pass it on.
	woken wakeKind
}

// wakeKind tells what took a waiter off its list.
type wakeKind uint8

const (
	notWoken wakeKind = iota
	wokenOne          // a single wake that must not be lost (a value, a room, NotifyOne)
	wokenAll          // a broadcast (Close, NotifyAll): nothing to pass on
)

// waitList is a FIFO of waiters, linked through the waiters themselves.
type waitList struct{ head, tail *waiter }

// wait puts w at the tail with waker wk, or, if w is queued already, only
// refreshes its waker.
func (l *waitList) wait(w *waiter, wk Waker) {
	if w.queued {
		if !w.waker.WillWake(wk) {
			w.waker = wk
		}
		return
	}
	w.waker, w.woken, w.queued = wk, notWoken, true
	w.prev, w.next = l.tail, nil
	if l.tail == nil {
		l.head = w
	} else {
		l.tail.next = w
	}
	l.tail = w
}

// leave takes w off the list if it is queued and forgets any wake it got;
// its future is done with waiting.
func (l *waitList) leave(w *waiter) {
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
	w.waker, w.woken = Waker{}, notWoken
}

// wakeOne takes the first waiter off the list, marks it woken by kind and
// returns its waker, for the caller to wake after unlocking. With no waiter it
// returns the zero Waker and false.
func (l *waitList) wakeOne(kind wakeKind) (Waker, bool) {
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

// wakeAll wakes every waiter, marked wokenAll. It wakes under the caller's
// lock, because a waiter's fields may change as soon as the lock is released;
// Wake never polls inline, so this cannot re-enter the primitive.
func (l *waitList) wakeAll() {
	for {
		wk, ok := l.wakeOne(wokenAll)
		if !ok {
			return
		}
		wk.Wake()
	}
}
