//go:build (darwin || netbsd) && (amd64 || arm64)

package ffi

import (
	"golang.org/x/sys/unix"

	"github.com/libasync/libasync/driver"
)

// signal is the notifier's descriptor: the read end of a non-blocking pipe,
// readable while a byte is in it.
type signal struct{ r, w int }

func newSignal() (signal, error) {
	r, w, err := driver.Pipe()
	return signal{r: r, w: w}, err
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
