//go:build unix

package drivertest

import (
	"errors"

	"github.com/libasync/libasync/driver"
	"golang.org/x/sys/unix"
)

// invalidFD is a descriptor no system call accepts.
const invalidFD driver.FD = -1

var loopback = [4]byte{127, 0, 0, 1}

func sysSocket() (driver.FD, error) { return unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0) }

// setNonblock makes fd non-blocking and close-on-exec, apart from socket(2)
// and accept(2) because darwin lacks SOCK_NONBLOCK and accept4.
func setNonblock(fd driver.FD) error {
	unix.CloseOnExec(fd)
	return unix.SetNonblock(fd, true)
}

func sysBind(fd driver.FD) error   { return unix.Bind(fd, &unix.SockaddrInet4{Addr: loopback}) }
func sysListen(fd driver.FD) error { return unix.Listen(fd, 4096) }

func sysPort(fd driver.FD) (int, error) {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return 0, err
	}
	return sa.(*unix.SockaddrInet4).Port, nil
}

// sysConnect starts a connect; one in progress is no error.
func sysConnect(fd driver.FD, port int) error {
	err := unix.Connect(fd, &unix.SockaddrInet4{Addr: loopback, Port: port})
	if errors.Is(err, unix.EINPROGRESS) {
		return nil
	}
	return err
}

func sysAccept(l driver.FD) (driver.FD, error) {
	fd, _, err := unix.Accept(l)
	return fd, err
}

func sysRead(fd driver.FD, p []byte) (int, error)  { return unix.Read(fd, p) }
func sysWrite(fd driver.FD, p []byte) (int, error) { return unix.Write(fd, p) }

func sysLinger(fd driver.FD) error {
	return unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
}

func shutdownWrite(fd driver.FD) error { return unix.Shutdown(fd, unix.SHUT_WR) }

func closeSocket(fd driver.FD) error { return unix.Close(fd) }

func wouldBlock(err error) bool {
	return errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EWOULDBLOCK)
}

// ensureDescriptors raises the soft RLIMIT_NOFILE so that n more descriptors
// fit, and reports whether they do.
func ensureDescriptors(n int) (bool, error) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return false, err
	}
	// Room for the descriptors the test process already holds. The
	// conversions are for the BSDs, whose limits are signed.
	want := uint64(n) + 256
	if uint64(lim.Cur) >= want {
		return true, nil
	}
	if uint64(lim.Max) < want {
		return false, nil
	}
	// darwin refuses a soft limit above kern.maxfilesperproc even when the
	// hard limit is higher; a refusal means the descriptors do not fit.
	setLimit(&lim.Cur, want)
	return unix.Setrlimit(unix.RLIMIT_NOFILE, &lim) == nil, nil
}

// setLimit stores v in an rlimit field: uint64 on Linux, int64 on the BSDs.
func setLimit[T int64 | uint64](field *T, v uint64) { *field = T(v) }

// interrupt sends the process SIGURG, which Go's runtime ignores but which
// makes a system call blocked on any of its threads return EINTR.
func interrupt() error { return unix.Kill(unix.Getpid(), unix.SIGURG) }
