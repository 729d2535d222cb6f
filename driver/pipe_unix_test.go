//go:build unix

package driver_test

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/internal/leakcheck"
)

// Both ends are non-blocking and close-on-exec, and a byte written to w is
// read from r.
func TestPipe(t *testing.T) {
	leakcheck.Check(t)
	r, w, err := driver.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(r)
	defer unix.Close(w)
	for _, fd := range []int{r, w} {
		fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
		if err != nil || fl&unix.O_NONBLOCK == 0 {
			t.Errorf("fd %d: flags %#x, %v; want O_NONBLOCK", fd, fl, err)
		}
		fdfl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil || fdfl&unix.FD_CLOEXEC == 0 {
			t.Errorf("fd %d: fd flags %#x, %v; want FD_CLOEXEC", fd, fdfl, err)
		}
	}
	var b [1]byte
	if _, err := unix.Read(r, b[:]); err != unix.EAGAIN {
		t.Fatalf("read of an empty pipe: %v, want EAGAIN", err)
	}
	if _, err := unix.Write(w, []byte{7}); err != nil {
		t.Fatal(err)
	}
	if n, err := unix.Read(r, b[:]); n != 1 || err != nil || b[0] != 7 {
		t.Fatalf("read = %d, %v, %d", n, err, b[0])
	}
}
