//go:build (darwin || linux || netbsd || windows) && (amd64 || arm64)

package ffi

import (
	"errors"
	"syscall"
)

// ErrnoOf returns the operating-system error number err wraps, or 0.
func ErrnoOf(err error) int64 {
	var en syscall.Errno
	if errors.As(err, &en) {
		return int64(en)
	}
	return 0
}
