package future

import "sync"

// Notify wakes tasks that wait for an event, with no value attached, in the
// manner of Tokio's Notify. The zero Notify is ready to use; it must not be
// copied after first use. Its methods are safe from any goroutine.
//
// NotifyOne wakes the longest-waiting Notified future or, when none waits,
// stores a single permit that the next Notified future consumes at once
// (permits do not add up). NotifyAll wakes every Notified future waiting at
// that moment and stores no permit. A Notified future that is dropped after
// NotifyOne chose it passes the notification on (to the next waiter, or as
// the permit), so a NotifyOne is never lost; a dropped waiter leaves the list
// at once, releasing its waker.
type Notify struct {
	mu      sync.Mutex
	permit  bool
	waiters waitList
}

// NotifyOne wakes one waiting Notified future, or stores the permit if none
// waits.
func (n *Notify) NotifyOne() {
	n.mu.Lock()
	wk, ok := n.waiters.WakeOne(WokenOne)
	if !ok {
		n.permit = true
	}
	n.mu.Unlock()
	wk.Wake()
}

// NotifyAll wakes every Notified future that is waiting now (polled and
// Pending). It stores no permit: futures that start waiting later wait for
// the next notification.
func (n *Notify) NotifyAll() {
	n.mu.Lock()
	n.waiters.WakeAll()
	n.mu.Unlock()
}

// Notified returns a future that is Ready once this Notify notifies it, or at
// its first poll if a permit is stored (consuming it). It waits only from its
// first poll on.
func (n *Notify) Notified() *Notified { return &Notified{n: n} }

// Notified is the future of Notify.Notified.
type Notified struct {
	n *Notify
	w waiter
}

// Poll is Ready once notified.
func (f *Notified) Poll(cx *Context) Poll[struct{}] {
	n := f.n
	n.mu.Lock()
	if f.w.Woken() != NotWoken || n.permit {
		if f.w.Woken() == NotWoken {
			n.permit = false
		}
		n.waiters.Leave(&f.w)
		n.mu.Unlock()
		return Ready(struct{}{})
	}
	n.waiters.Wait(&f.w, cx.Waker())
	n.mu.Unlock()
	return Pending[struct{}]()
}

// Drop leaves the wait list; a NotifyOne that had chosen this future goes to
// the next waiter, or becomes the permit.
func (f *Notified) Drop() {
	n := f.n
	var wk Waker
	n.mu.Lock()
	if n.waiters.Abandon(&f.w) {
		var ok bool
		if wk, ok = n.waiters.WakeOne(WokenOne); !ok {
			n.permit = true
		}
	}
	n.mu.Unlock()
	wk.Wake()
}
