//go:build unix

package driver

import "math"

// FD is the descriptor a driver watches: a file descriptor on unix.
type FD = int

// validFD reports whether fd is in the range of descriptors, a C int's
// non-negative values.
func validFD(fd FD) bool { return fd >= 0 && fd <= math.MaxInt32 }
