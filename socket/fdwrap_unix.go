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
