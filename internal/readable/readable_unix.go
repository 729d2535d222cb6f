//go:build unix

package readable

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/libasync/libasync/driver"
)

// Within reports whether fd is readable, or turns readable within d (0:
// now). It fails tb if poll(2) fails.
func Within(tb testing.TB, fd driver.FD, d time.Duration) bool {
	tb.Helper()
	p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(p, int(d.Milliseconds()))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			tb.Fatalf("poll: %v", err)
		}
		return n == 1
	}
}
