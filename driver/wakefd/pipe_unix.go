//go:build unix

package wakefd

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/libasync/libasync/driver"
)

// pipe is the wake-up of the unix systems without an eventfd: its read end
// is readable while a byte is in it. (Linux uses it in the tests only.)
type pipe struct{ r, w int }

func newPipe() (descriptor, error) {
	// pipe2 is missing on darwin: hold off fork/exec until both ends are
	// close-on-exec, as the standard library does, so that no child a host
	// starts meanwhile inherits them.
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		return nil, err
	}
	for _, fd := range p {
		unix.CloseOnExec(fd)
		if err := unix.SetNonblock(fd, true); err != nil {
			unix.Close(p[0])
			unix.Close(p[1])
			return nil, err
		}
	}
	return pipe{r: p[0], w: p[1]}, nil
}

func (p pipe) fd() driver.FD { return p.r }

var oneByte = []byte{1}

func (p pipe) signal() error { return write(p.w, oneByte) }

// write writes b to fd, retrying when a signal interrupts it. EAGAIN is no
// error: the buffer (a pipe's, an eventfd's counter) is full, so the
// descriptor is readable already.
func write(fd int, b []byte) error {
	for {
		_, err := unix.Write(fd, b)
		switch err {
		case nil, unix.EAGAIN:
			return nil
		case unix.EINTR:
		default:
			return err
		}
	}
}

func (p pipe) drain() {
	var b [64]byte
	for {
		n, err := unix.Read(p.r, b[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil || n < len(b) {
			return
		}
	}
}

func (p pipe) close() error { return errors.Join(unix.Close(p.r), unix.Close(p.w)) }
