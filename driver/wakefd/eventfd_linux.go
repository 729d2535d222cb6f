package wakefd

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/libasync/libasync/driver"
)

// eventfd is Linux's wake-up: one descriptor, readable while its counter is
// not zero, which one read resets.
type eventfd int

func open() (descriptor, error) { return newEventfd() }

func newEventfd() (descriptor, error) {
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, err
	}
	return eventfd(fd), nil
}

// one is the 8-byte native-endian 1 that a signal adds to the counter.
var one = func() (b [8]byte) {
	binary.NativeEndian.PutUint64(b[:], 1)
	return b
}()

func (e eventfd) fd() driver.FD { return int(e) }

func (e eventfd) signal() error { return write(int(e), one[:]) }

func (e eventfd) drain() {
	var b [8]byte
	for {
		if _, err := unix.Read(int(e), b[:]); err != unix.EINTR {
			return
		}
	}
}

func (e eventfd) close() error { return unix.Close(int(e)) }
