//go:build linux && (amd64 || arm64)

package ffi

import "golang.org/x/sys/unix"

// signal is the notifier's descriptor: an eventfd, readable while its
// counter is not zero.
type signal struct{ efd int }

func newSignal() (signal, error) {
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	return signal{efd: fd}, err
}

func (s signal) fd() int { return s.efd }

func (s signal) raise() {
	// EAGAIN means the counter is full, hence readable already.
	_, _ = unix.Write(s.efd, []byte{1, 0, 0, 0, 0, 0, 0, 0})
}

func (s signal) clear() {
	var b [8]byte
	_, _ = unix.Read(s.efd, b[:])
}

func (s signal) close() error { return unix.Close(s.efd) }
