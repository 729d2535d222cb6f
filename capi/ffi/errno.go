//go:build (darwin || linux || netbsd || windows) && (amd64 || arm64)

package ffi

import (
	"errors"
	"syscall"
)

// ErrnoOf returns the operating-system error number err wraps, or 0: errno
// on unix; on Windows the Win32 or Winsock error code (what GetLastError or
// WSAGetLastError returns), an NTSTATUS being translated to its Win32 code.
func ErrnoOf(err error) int64 {
	var en syscall.Errno
	if errors.As(err, &en) {
		return int64(en)
	}
	return otherErrno(err)
}
