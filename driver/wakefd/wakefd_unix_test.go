//go:build unix

package wakefd

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/libasync/libasync/internal/leakcheck"
)

// kinds are the descriptors to test: the system's own, and the pipe, which
// other systems use, wherever it builds.
var kinds = map[string]func() (descriptor, error){"default": open, "pipe": newPipe}

// Every descriptor is non-blocking and close-on-exec.
func TestFlags(t *testing.T) {
	leakcheck.Check(t)
	for name, open := range kinds {
		d, err := open()
		if err != nil {
			t.Fatal(err)
		}
		fds := []int{d.fd()}
		if p, ok := d.(pipe); ok {
			fds = append(fds, p.w)
		}
		for _, fd := range fds {
			fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
			if err != nil || fl&unix.O_NONBLOCK == 0 {
				t.Errorf("%s: fd %d: flags %#x, %v; want O_NONBLOCK", name, fd, fl, err)
			}
			fdfl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
			if err != nil || fdfl&unix.FD_CLOEXEC == 0 {
				t.Errorf("%s: fd %d: fd flags %#x, %v; want FD_CLOEXEC", name, fd, fdfl, err)
			}
		}
		if err := d.close(); err != nil {
			t.Error(err)
		}
	}
}
