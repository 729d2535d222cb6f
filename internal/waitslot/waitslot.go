// Package waitslot keeps the wait that a future leaves on a resource which
// serves one waiter per direction (a stream's read or write side, a socket's
// readiness), so that the future can withdraw it.
package waitslot

import "github.com/libasync/libasync/future"

// Slot remembers that a future left a wait pending, and with which waker.
// The future withdraws the wait when it is dropped, and before it polls again
// with another waker (which the resource would take for a second waiter and
// refuse). Each withdraw function is given the waker of the wait and gives the
// resource's slot back. The zero Slot holds no wait.
type Slot struct {
	waker future.Waker
	on    bool
}

// Again prepares a poll with cx: a wait left with a waker other than cx's
// is withdrawn first.
func (s *Slot) Again(cx *future.Context, withdraw func(future.Waker)) {
	if s.on && !s.waker.WillWake(cx.Waker()) {
		s.Drop(withdraw)
	}
}

// Track records the outcome of a poll with cx: a pending one left a wait
// with cx's waker, a ready one none.
func (s *Slot) Track(pending bool, cx *future.Context) {
	s.on = pending
	if pending {
		s.waker = cx.Waker()
	}
}

// Drop withdraws the wait left pending, if any.
func (s *Slot) Drop(withdraw func(future.Waker)) {
	if s.on {
		withdraw(s.waker)
		s.on = false
	}
}
