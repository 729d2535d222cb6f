//go:build unix

package driver

// FD is the descriptor a driver watches: a file descriptor on unix.
type FD = int
