//go:build unix

package socket

import (
	"golang.org/x/sys/unix"

	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/executor"
	"github.com/libasync/libasync/future"
)

// NewFD returns a future that puts fd (a pipe, an eventfd, a tty, a socket
// made elsewhere: anything the platform's driver can watch) on the reactor
// of the runtime that polls it. The FD takes ownership of fd: it sets it
// non-blocking, and its Close closes it.
//
// An fd the driver cannot watch (a regular file under epoll) gives an error
// wrapping driver.ErrNotSupported or driver.ErrInvalid, and is left open.
func NewFD(fd int) future.Future[future.Result[*FD]] {
	return future.PollFn(func(cx *future.Context) future.Poll[future.Result[*FD]] {
		fail := func(err error) future.Poll[future.Result[*FD]] {
			return future.Ready(future.Fail[*FD](err))
		}
		r, err := executor.ReactorOf(cx)
		if err != nil {
			return fail(err)
		}
		if err := unix.SetNonblock(fd, true); err != nil {
			return fail(syscallErr("fcntl", err))
		}
		reg, err := r.Register(fd, driver.Read|driver.Write)
		if err != nil {
			return fail(err)
		}
		return future.Ready(future.Ok(&FD{fd: &netFD{sysfd: fd, reg: reg, net: "fd"}}))
	})
}

// FD is a descriptor on the reactor. Its PollRead and PollWrite make read(2)
// and write(2) calls as aio.Reader and aio.Writer say (a read of 0 bytes is
// io.EOF), with one read and one write pending at once. For other calls
// (an eventfd's counter, ioctls) Readable and Writable wait for readiness:
// make the call, and on EAGAIN give the readiness to ClearReady and wait
// again. It belongs to the runtime that polled NewFD.
type FD struct{ fd *netFD }

// Fd returns the descriptor. It stays valid until Close.
func (f *FD) Fd() int { return f.fd.sysfd }

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
