//go:build unix

package socket

import (
	"net"

	"golang.org/x/sys/unix"

	"github.com/libasync/libasync/future"
)

// ListenUnix returns a future that opens a Unix domain stream listener on
// path (a file that must not exist yet; Close does not remove it). The
// listener's Accept gives Streams that behave as TCP ones (except the TCP
// options). It belongs to the runtime that polls the future.
func ListenUnix(path string) future.Future[future.Result[*Listener]] {
	return future.PollFn(func(cx *future.Context) future.Poll[future.Result[*Listener]] {
		l, err := listenStream(cx, "unix", unix.AF_UNIX, &unix.SockaddrUnix{Name: path})
		return future.Ready(future.Result[*Listener]{Value: l, Err: err})
	})
}

// ConnectUnix returns a future that connects a Unix domain stream socket to
// path. Its errors are package net's: a path with no listener gives an
// error wrapping syscall.ENOENT or syscall.ECONNREFUSED.
func ConnectUnix(path string) *ConnectFuture {
	return &ConnectFuture{
		netw:    "unix",
		targets: []dialTarget{{family: unix.AF_UNIX, sa: &unix.SockaddrUnix{Name: path}, addr: &net.UnixAddr{Name: path, Net: "unix"}}},
	}
}

// unixAddrOf turns a Unix domain socket address into a *net.UnixAddr.
// An unnamed socket's (a connecting end's) has the name "", which Linux's
// x/sys/unix reports as an abstract "@" with nothing after it.
func unixAddrOf(sa sockaddr) net.Addr {
	if s, ok := sa.(*unix.SockaddrUnix); ok {
		name := s.Name
		if name == "@" {
			name = ""
		}
		return &net.UnixAddr{Name: name, Net: "unix"}
	}
	return nil
}
