//go:build unix && !(linux || freebsd || netbsd || dragonfly || darwin)

package socket

import "github.com/libasync/libasync/driver"

// setKeepAlivePeriod: this system sets the keep-alive timing only
// system-wide.
func setKeepAlivePeriod(fd driver.FD, secs int) error { return ErrNotSupported }
