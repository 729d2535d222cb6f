//go:build (darwin || netbsd) && (amd64 || arm64)

package ffi

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// signal is the notifier's descriptor: the read end of a non-blocking pipe,
// readable while a byte is in it.
type signal struct{ r, w int }

func newSignal() (signal, error) {
	// pipe2 is missing on darwin: hold off fork/exec until both ends are
	// close-on-exec, so that no child a host starts meanwhile inherits them.
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		return signal{}, err
	}
	for _, fd := range p {
		unix.CloseOnExec(fd)
		if err := unix.SetNonblock(fd, true); err != nil {
			unix.Close(p[0])
			unix.Close(p[1])
			return signal{}, err
		}
	}
	return signal{r: p[0], w: p[1]}, nil
}

func (s signal) fd() int { return s.r }

func (s signal) raise() {
	// EAGAIN means the pipe is full, hence readable already.
	_, _ = unix.Write(s.w, []byte{1})
}

func (s signal) clear() {
	var b [64]byte
	for {
		if n, err := unix.Read(s.r, b[:]); n <= 0 || err != nil {
			return
		}
	}
}

func (s signal) close() error {
	err := unix.Close(s.r)
	if werr := unix.Close(s.w); err == nil {
		err = werr
	}
	return err
}
