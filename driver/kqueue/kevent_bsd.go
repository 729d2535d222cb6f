//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package kqueue

import (
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/driver/wakefd"
)

func init() { driver.Provide(name, Open) }

// Open creates a kqueue driver. Callers usually go through
// driver.Open("kqueue") instead.
func Open() (driver.Driver, error) {
	d, err := open(sysKernel{}, osFeatures)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// The portable flags are the system's: a compile-time check (indexing a
// one-element array with the difference fails to build unless it is 0).
var (
	_ = [1]struct{}{}[unix.EV_ADD-evAdd]
	_ = [1]struct{}{}[unix.EV_DELETE-evDelete]
	_ = [1]struct{}{}[unix.EV_CLEAR-evClear]
	_ = [1]struct{}{}[unix.EV_ERROR-evError]
	_ = [1]struct{}{}[unix.EV_EOF-evEOF]
)

// sysKernel is the kernel seam on the real system calls.
type sysKernel struct{}

func (sysKernel) kqueue() (int, error) {
	// Hold off fork/exec between creating the descriptor and marking it
	// close-on-exec, as the standard library does.
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	kq, err := unix.Kqueue()
	if err != nil {
		return -1, err
	}
	unix.CloseOnExec(kq)
	return kq, nil
}

func (sysKernel) kevent(kq int, changes, events []kev, timeout *time.Duration, s *scratch) (int, error) {
	buf, _ := s.native.([]unix.Kevent_t)
	if need := len(changes) + len(events); cap(buf) < need {
		buf = make([]unix.Kevent_t, need)
		s.native = buf
	}
	ch := buf[:len(changes)]
	ev := buf[len(changes) : len(changes)+len(events)]
	for i, c := range changes {
		toNative(&ch[i], c)
	}
	var ts *unix.Timespec
	if timeout != nil {
		t := unix.NsecToTimespec(int64(*timeout))
		ts = &t
	}
	n, err := unix.Kevent(kq, ch, ev, ts)
	if err != nil {
		return 0, err
	}
	for i := range ev[:n] {
		events[i] = fromNative(&ev[i])
	}
	return n, nil
}

func (sysKernel) wakeup() (wakeup, error) {
	w, err := wakefd.New()
	if err != nil {
		return nil, err
	}
	return w, nil
}

func (sysKernel) close(fd int) error { return unix.Close(fd) }

// toNative fills a system record from a portable one.
func toNative(k *unix.Kevent_t, e kev) {
	f := unix.EVFILT_READ
	switch e.filter {
	case filterWrite:
		f = unix.EVFILT_WRITE
	case filterUser:
		f = evfiltUser
	}
	unix.SetKevent(k, int(e.ident), f, int(e.flags&^(evReceipt&^evReceiptNative)))
	k.Fflags = e.fflags
	k.Data = e.data
}

// fromNative converts a system record to a portable one.
func fromNative(k *unix.Kevent_t) kev {
	e := kev{ident: uint64(k.Ident), flags: uint16(k.Flags), fflags: k.Fflags, data: int64(k.Data)}
	switch int(k.Filter) {
	case unix.EVFILT_READ:
		e.filter = filterRead
	case unix.EVFILT_WRITE:
		e.filter = filterWrite
	default:
		if osFeatures.userFilter && int(k.Filter) == evfiltUser {
			e.filter = filterUser
		}
	}
	return e
}
