//go:build unix && !linux

package poll

import (
	"math"
	"time"

	"golang.org/x/sys/unix"
)

// pollRDHUP is Linux's only: elsewhere the peer's shutdown shows as POLLIN
// (a read then returns 0), or POLLHUP once both sides are done.
const pollRDHUP = 0

// sysPoll calls poll(2), whose timeout is in milliseconds: rounded up, so
// that it never ends early, and capped (Wait polls again for the rest).
type sysPoll struct{}

func (sysPoll) poll(fds []unix.PollFd, timeout time.Duration) (int, error) {
	ms := -1
	switch {
	case timeout >= math.MaxInt32*time.Millisecond:
		ms = math.MaxInt32 // also keeps the rounding below from overflowing
	case timeout >= 0:
		ms = int((timeout + time.Millisecond - 1) / time.Millisecond)
	}
	return unix.Poll(fds, ms)
}
