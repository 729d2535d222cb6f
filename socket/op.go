package socket

import (
	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/future"
)

// opFuture turns a poll function on fd's direction dir into a future that
// withdraws its wait when dropped or re-polled with another waker.
type opFuture[T any] struct {
	fd   *netFD
	dir  driver.Interest
	poll func(cx *future.Context) future.Poll[T]
	wait waitSlot
}

func newOpFuture[T any](fd *netFD, dir driver.Interest, poll func(cx *future.Context) future.Poll[T]) *opFuture[T] {
	return &opFuture[T]{fd: fd, dir: dir, poll: poll}
}

func (f *opFuture[T]) Poll(cx *future.Context) future.Poll[T] {
	f.wait.again(f.fd, f.dir, cx)
	p := f.poll(cx)
	f.wait.track(p.IsPending(), cx)
	return p
}

func (f *opFuture[T]) Drop() { f.wait.drop(f.fd, f.dir) }

// waitSlot remembers that a future left a wait pending on a registration,
// and with which waker, so that the wait is withdrawn when the future is
// dropped or polled by another task (whose wait the reactor would take for
// a second waiter's).
type waitSlot struct {
	waker future.Waker
	on    bool
}

func (w *waitSlot) again(fd *netFD, dir driver.Interest, cx *future.Context) {
	if w.on && !w.waker.WillWake(cx.Waker()) {
		w.drop(fd, dir)
	}
}

func (w *waitSlot) track(pending bool, cx *future.Context) {
	w.on = pending
	if pending {
		w.waker = cx.Waker()
	}
}

func (w *waitSlot) drop(fd *netFD, dir driver.Interest) {
	if w.on {
		fd.reg.Release(dir, w.waker)
		w.on = false
	}
}
