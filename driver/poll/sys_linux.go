package poll

import (
	"time"

	"golang.org/x/sys/unix"
)

// pollRDHUP asks Linux to report the peer's shutdown of its write side.
const pollRDHUP = unix.POLLRDHUP

// sysPoll calls ppoll(2), whose timespec keeps the timeout's nanoseconds,
// so nothing needs rounding. The timespec lives here, not on the stack, as
// the system call would make it escape on every Wait.
type sysPoll struct{ ts unix.Timespec }

func (s *sysPoll) poll(fds []unix.PollFd, timeout time.Duration) (int, error) {
	if timeout < 0 {
		return unix.Ppoll(fds, nil, nil)
	}
	s.ts = unix.NsecToTimespec(int64(timeout))
	return unix.Ppoll(fds, &s.ts, nil)
}
