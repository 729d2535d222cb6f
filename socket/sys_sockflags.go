//go:build linux || freebsd || dragonfly

package socket

import (
	"golang.org/x/sys/unix"

	"github.com/libasync/libasync/driver"
)

// sysSocket opens a non-blocking, close-on-exec socket in one call.
func sysSocket(family, sotype, proto int) (driver.FD, error) {
	return unix.Socket(family, sotype|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
}

// sysAccept takes a connection off a listener as a non-blocking,
// close-on-exec descriptor.
func sysAccept(fd driver.FD) (driver.FD, sockaddr, error) {
	for {
		nfd, sa, err := unix.Accept4(fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		if err != unix.EINTR {
			return nfd, sa, err
		}
	}
}
