//go:build unix

package driver

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// Pipe returns a non-blocking, close-on-exec pipe, for wake-ups: drivers
// without an eventfd or a user event, and notifiers, write a byte to w to
// make r readable.
func Pipe() (r, w FD, err error) {
	// pipe2 is missing on darwin: hold off fork/exec until both ends are
	// close-on-exec, as the standard library does, so that no child a host
	// starts meanwhile inherits them.
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		return -1, -1, err
	}
	for _, fd := range p {
		unix.CloseOnExec(fd)
		if err := unix.SetNonblock(fd, true); err != nil {
			unix.Close(p[0])
			unix.Close(p[1])
			return -1, -1, err
		}
	}
	return p[0], p[1], nil
}
