//go:build windows

package driver

import "golang.org/x/sys/windows"

// FD is the descriptor a driver watches: a SOCKET on Windows. Other handles
// give an error wrapping ErrNotSupported.
type FD = windows.Handle

// validFD reports whether fd may be a handle: neither 0 nor
// INVALID_HANDLE_VALUE (INVALID_SOCKET).
func validFD(fd FD) bool { return fd != 0 && fd != windows.InvalidHandle }
