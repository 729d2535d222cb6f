package socket

import (
	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/executor"
	"github.com/libasync/libasync/future"
)

// WatchFD returns a future that puts fd, a descriptor the caller keeps
// (a socket, a pipe, a tty: anything the platform's driver can watch; on
// Windows a SOCKET), on the reactor of the runtime that polls it, for its
// readiness only. Unlike NewFD, it leaves fd's mode alone (a blocking fd
// stays blocking), and the FD's Close deregisters fd without closing it.
// The caller makes the I/O itself and learns when to with PollLevel; it
// must Close the FD before it closes fd.
func WatchFD(fd driver.FD) future.Future[future.Result[*FD]] {
	return future.PollFn(func(cx *future.Context) future.Poll[future.Result[*FD]] {
		r, err := executor.ReactorOf(cx)
		if err != nil {
			return future.Ready(future.Fail[*FD](err))
		}
		reg, err := r.Register(fd, driver.Read|driver.Write)
		if err != nil {
			return future.Ready(future.Fail[*FD](err))
		}
		return future.Ready(future.Ok(&FD{fd: &netFD{sysfd: fd, reg: reg, net: "fd", borrowed: true}}))
	})
}

// PollLevel reports whether the descriptor is ready for dir now, as a
// level-triggered poller would: it asks the system on the calling thread
// (poll(2), WSAPoll), and when the answer is no, waits for the reactor to
// see readiness and asks again, going back to waiting while the system
// says no (the caller's own I/O drained it). Ready means ready at that
// moment; cx's waker is woken, with no promise beyond "maybe ready", when
// a Pending poll should be repeated.
func (f *FD) PollLevel(cx *future.Context, dir driver.Interest) future.Poll[future.Result[driver.Readiness]] {
	if !f.fd.refs.incref() {
		return future.Ready(future.Fail[driver.Readiness](f.fd.errClosed("poll")))
	}
	got, err := sysReadyNow(f.fd.sysfd, dir)
	f.fd.decref()
	if err != errAgain {
		return future.Ready(future.Result[driver.Readiness]{Value: got, Err: f.fd.opError("poll", err)})
	}
	res := f.fd.pollIO(cx, dir, "poll", func() (int, bool, error) {
		var err error
		got, err = sysReadyNow(f.fd.sysfd, dir)
		return 0, false, err
	})
	r, ok := res.Value()
	switch {
	case !ok:
		return future.Pending[future.Result[driver.Readiness]]()
	case r.Err != nil:
		return future.Ready(future.Fail[driver.Readiness](r.Err))
	}
	return future.Ready(future.Ok(got))
}

// readinessOf turns what a level check saw into the readiness of dir: an
// invalid descriptor is EBADF, nothing at all errAgain.
func readinessOf(invalid, ready, hup, fault bool, dir driver.Interest) (driver.Readiness, error) {
	var r driver.Readiness
	switch {
	case invalid:
		return 0, syscallErr("poll", errBadFD)
	case ready && dir == driver.Write:
		r |= driver.Writable
	case ready:
		r |= driver.Readable
	}
	if hup {
		r |= driver.ReadClosed | driver.WriteClosed
	}
	if fault {
		r |= driver.Error
	}
	if r == 0 {
		return 0, errAgain
	}
	return r, nil
}

// FD is a descriptor on the reactor. Its PollRead and PollWrite make read(2)
// and write(2) calls as aio.Reader and aio.Writer say (a read of 0 bytes is
// io.EOF), with one read and one write pending at once. For other calls
// (an eventfd's counter, ioctls) Readable and Writable wait for readiness:
// make the call, and on EAGAIN give the readiness to ClearReady and wait
// again. It belongs to the runtime that polled NewFD.
type FD struct{ fd *netFD }

// Fd returns the descriptor. It stays valid until Close.
func (f *FD) Fd() driver.FD { return f.fd.sysfd }

// PollRead reads into p (aio.Reader).
func (f *FD) PollRead(cx *future.Context, p []byte) future.Poll[future.Result[int]] {
	return f.fd.pollRead(cx, p)
}

// PollWrite writes from p (aio.Writer).
func (f *FD) PollWrite(cx *future.Context, p []byte) future.Poll[future.Result[int]] {
	return f.fd.pollWrite(cx, p)
}

// CancelRead withdraws the pending read (or Readable wait) made with w.
func (f *FD) CancelRead(w future.Waker) { f.fd.reg.Release(driver.Read, w) }

// CancelWrite withdraws the pending write (or Writable wait) made with w.
func (f *FD) CancelWrite(w future.Waker) { f.fd.reg.Release(driver.Write, w) }

// PollReadable reports the read readiness of the descriptor, or Pending
// until it is readable (or closed by the peer, or in error).
func (f *FD) PollReadable(cx *future.Context) future.Poll[future.Result[executor.Ready]] {
	return f.pollReady(cx, driver.Read, "read")
}

// PollWritable is PollReadable for writing.
func (f *FD) PollWritable(cx *future.Context) future.Poll[future.Result[executor.Ready]] {
	return f.pollReady(cx, driver.Write, "write")
}

func (f *FD) pollReady(cx *future.Context, dir driver.Interest, op string) future.Poll[future.Result[executor.Ready]] {
	if f.fd.refs.closed() {
		return future.Ready(future.Fail[executor.Ready](f.fd.errClosed(op)))
	}
	p := f.fd.reg.PollReady(cx, dir)
	if r, ok := p.Value(); ok && r.Err != nil {
		return future.Ready(future.Fail[executor.Ready](f.fd.opError(op, r.Err)))
	}
	return p
}

// Readable returns a future of PollReadable; dropped, it withdraws its wait.
func (f *FD) Readable() future.Future[future.Result[executor.Ready]] {
	return newOpFuture(f.fd, driver.Read, f.PollReadable)
}

// Writable returns a future of PollWritable.
func (f *FD) Writable() future.Future[future.Result[executor.Ready]] {
	return newOpFuture(f.fd, driver.Write, f.PollWritable)
}

// ClearReady tells the reactor that the call allowed by rd answered EAGAIN,
// so that the next Readable (Writable) waits for new readiness.
func (f *FD) ClearReady(rd executor.Ready) error {
	if err := f.fd.reg.ClearReady(rd); err != nil {
		return f.fd.opError("wait", err)
	}
	return nil
}

// Close deregisters and closes the descriptor once no call of this package
// runs on it; pending operations complete with net.ErrClosed. Calls the
// caller makes on Fd() itself are the caller's to finish first.
func (f *FD) Close() error { return f.fd.close() }

// Level returns a future of PollLevel for dir; dropped, it withdraws its
// wait.
func (f *FD) Level(dir driver.Interest) future.Future[future.Result[driver.Readiness]] {
	return newOpFuture(f.fd, dir, func(cx *future.Context) future.Poll[future.Result[driver.Readiness]] {
		return f.PollLevel(cx, dir)
	})
}
