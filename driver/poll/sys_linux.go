package poll

import (
	"encoding/binary"
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

// wakeFD is an eventfd: one descriptor, whose counter a drain resets.
type wakeFD struct{ fd int }

var wakeValue = func() (b [8]byte) {
	binary.NativeEndian.PutUint64(b[:], 1)
	return b
}()

func newWakeFD() (wakeFD, error) {
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	return wakeFD{fd}, err
}

func (w wakeFD) pollFD() int { return w.fd }

func (w wakeFD) signal() error {
	for {
		_, err := unix.Write(w.fd, wakeValue[:])
		if err != unix.EINTR {
			if err == unix.EAGAIN { // counter full: the poll wakes anyway
				return nil
			}
			return err
		}
	}
}

func (w wakeFD) drain() {
	var buf [8]byte
	for {
		if _, err := unix.Read(w.fd, buf[:]); err != unix.EINTR {
			return
		}
	}
}

func (w wakeFD) close() error { return unix.Close(w.fd) }
