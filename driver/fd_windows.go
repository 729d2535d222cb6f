//go:build windows

package driver

import "golang.org/x/sys/windows"

// FD is the descriptor a driver watches: a SOCKET on Windows. Other handles
// give an error wrapping ErrNotSupported.
type FD = windows.Handle
