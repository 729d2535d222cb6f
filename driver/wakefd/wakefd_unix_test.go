//go:build unix

package wakefd

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/internal/leakcheck"
)

// kinds are the descriptors to test: the system's own, and the pipe, which
// other systems use, wherever it builds.
var kinds = map[string]func() (descriptor, error){"default": open, "pipe": newPipe}

// readable reports whether fd is readable, or, with wait, becomes so
// within 5 s.
func readable(t *testing.T, fd driver.FD, wait bool) bool {
	t.Helper()
	ms := 0
	if wait {
		ms = 5000
	}
	p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(p, ms)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
}

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
