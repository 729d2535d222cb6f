//go:build windows

package socket

import (
	"net"

	"github.com/libasync/libasync/future"
)

// ListenUnix is not provided on Windows yet (its AF_UNIX sockets are not
// on the iocp driver's AFD path here): the future fails with an error
// wrapping ErrNotSupported.
func ListenUnix(path string) future.Future[future.Result[*Listener]] {
	return future.PollFn(func(*future.Context) future.Poll[future.Result[*Listener]] {
		return future.Ready(future.Fail[*Listener](&net.OpError{Op: "listen", Net: "unix", Err: ErrNotSupported}))
	})
}

// ConnectUnix is not provided on Windows yet: the future fails with an
// error wrapping ErrNotSupported.
func ConnectUnix(path string) *ConnectFuture {
	return &ConnectFuture{netw: "unix", firstErr: &net.OpError{Op: "dial", Net: "unix", Err: ErrNotSupported}}
}
