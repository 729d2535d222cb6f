package socket

import (
	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/waitslot"
)

// opFuture turns a poll function on fd's direction dir into a future that
// withdraws its wait when dropped or re-polled with another waker.
type opFuture[T any] struct {
	fd   *netFD
	dir  driver.Interest
	poll func(cx *future.Context) future.Poll[T]
	wait waitslot.Slot
}

func newOpFuture[T any](fd *netFD, dir driver.Interest, poll func(cx *future.Context) future.Poll[T]) *opFuture[T] {
	return &opFuture[T]{fd: fd, dir: dir, poll: poll}
}

func (f *opFuture[T]) Poll(cx *future.Context) future.Poll[T] {
	f.wait.Again(cx, f.fd.withdraw(f.dir))
	p := f.poll(cx)
	f.wait.Track(p.IsPending(), cx)
	return p
}

func (f *opFuture[T]) Drop() { f.wait.Drop(f.fd.withdraw(f.dir)) }

// withdraw is how the futures of this package give back a wait they left
// on fd's direction dir (see waitslot.Slot).
func (fd *netFD) withdraw(dir driver.Interest) func(future.Waker) {
	return func(w future.Waker) { fd.reg.Release(dir, w) }
}
