//go:build (darwin || linux || netbsd) && (amd64 || arm64)

package ffi_test

import (
	"testing"

	"golang.org/x/sys/unix"
)

// waitReadable reports whether fd becomes readable within timeoutMs.
func waitReadable(t *testing.T, fd, timeoutMs int) bool {
	t.Helper()
	p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(p, timeoutMs)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
}
