package tasksync

import (
	"sync"

	"github.com/libasync/libasync/future"
)

// sendState is what watch and broadcast share: the lock that guards each,
// the close flag, and the receivers' futures waiting for the next Send or
// for the Close, both of which wake them all.
type sendState struct {
	mu      sync.Mutex
	closed  bool
	waiters future.WaitList[struct{}]
}

// send stores a value through put and wakes every waiting receiver, or
// fails with future.ErrClosed, storing nothing, once closed.
func (c *sendState) send(put func()) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return future.ErrClosed
	}
	put()
	c.waiters.WakeAll()
	return nil
}

// close marks the channel closed and wakes every waiting receiver.
func (c *sendState) close() {
	c.mu.Lock()
	c.closed = true
	c.waiters.WakeAll()
	c.mu.Unlock()
}

// stopWaiting takes a dropped receiver's waiter off the list. Every wake is
// a broadcast, so a dropped waiter has nothing to pass on.
func (c *sendState) stopWaiting(w *future.Waiter[struct{}]) {
	c.mu.Lock()
	c.waiters.Leave(w)
	c.mu.Unlock()
}

// waitUnlessClosed ends a receive poll that found nothing to receive: Ready
// with future.ErrClosed once closed, else Pending with w queued. The caller
// holds mu.
func waitUnlessClosed[T any](c *sendState, w *future.Waiter[struct{}], cx *future.Context) future.Poll[future.Result[T]] {
	if c.closed {
		c.waiters.Leave(w)
		return future.Ready(future.Fail[T](future.ErrClosed))
	}
	c.waiters.Wait(w, cx.Waker())
	return future.Pending[future.Result[T]]()
}
