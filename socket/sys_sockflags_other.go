//go:build unix && !(linux || freebsd || dragonfly)

package socket

import (
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/libasync/libasync/driver"
)

// sysSocket opens a non-blocking, close-on-exec socket. Without
// SOCK_CLOEXEC the flags are set after the call, under the fork lock, so
// that no child started meanwhile inherits the descriptor.
func sysSocket(family, sotype, proto int) (driver.FD, error) {
	syscall.ForkLock.RLock()
	fd, err := unix.Socket(family, sotype, proto)
	if err == nil {
		unix.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// sysAccept takes a connection off a listener as a non-blocking,
// close-on-exec descriptor.
func sysAccept(fd driver.FD) (driver.FD, sockaddr, error) {
	syscall.ForkLock.RLock()
	nfd, sa, err := unix.Accept(fd)
	if err == nil {
		unix.CloseOnExec(nfd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, nil, err
	}
	if err := unix.SetNonblock(nfd, true); err != nil {
		unix.Close(nfd)
		return -1, nil, err
	}
	return nfd, sa, nil
}
