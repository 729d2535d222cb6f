package socket

import (
	"golang.org/x/sys/unix"

	"github.com/libasync/libasync/driver"
)

// setKeepAlivePeriod sets the idle time and the probe interval, in seconds.
func setKeepAlivePeriod(fd driver.FD, secs int) error {
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPALIVE, secs); err != nil {
		return syscallErr("setsockopt", err)
	}
	return syscallErr("setsockopt", unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, secs))
}
