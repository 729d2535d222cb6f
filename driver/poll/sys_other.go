//go:build unix && !linux

package poll

import (
	"math"
	"time"

	"golang.org/x/sys/unix"

	"github.com/libasync/libasync/driver"
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

// wakeFD is a self-pipe: poll watches r, signal writes a byte to w, and
// drain reads r empty.
type wakeFD struct{ r, w int }

func newWakeFD() (wakeFD, error) {
	r, w, err := driver.Pipe()
	return wakeFD{r: r, w: w}, err
}

func (w wakeFD) pollFD() int { return w.r }

func (w wakeFD) signal() error {
	for {
		_, err := unix.Write(w.w, []byte{1})
		if err != unix.EINTR {
			if err == unix.EAGAIN { // pipe full: the poll wakes anyway
				return nil
			}
			return err
		}
	}
}

func (w wakeFD) drain() {
	var buf [64]byte
	for {
		n, err := unix.Read(w.r, buf[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil || n < len(buf) {
			return
		}
	}
}

func (w wakeFD) close() error {
	err := unix.Close(w.r)
	if err2 := unix.Close(w.w); err == nil {
		err = err2
	}
	return err
}
