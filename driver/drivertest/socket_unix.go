//go:build unix

package drivertest

import (
	"errors"

	"github.com/libasync/libasync/driver"
	"golang.org/x/sys/unix"
)

// invalidFD is a descriptor no system call accepts.
const invalidFD driver.FD = -1

// newSocket returns a non-blocking, close-on-exec IPv4 TCP socket. The two
// flags are set apart from socket(2) because darwin lacks SOCK_NONBLOCK.
func newSocket() (driver.FD, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		return invalidFD, err
	}
	unix.CloseOnExec(fd)
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return invalidFD, err
	}
	return fd, nil
}

// listenLoopback returns a listening socket on 127.0.0.1 and its port.
func listenLoopback() (driver.FD, int, error) {
	fd, err := newSocket()
	if err != nil {
		return invalidFD, 0, err
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		unix.Close(fd)
		return invalidFD, 0, err
	}
	if err := unix.Listen(fd, 4096); err != nil {
		unix.Close(fd)
		return invalidFD, 0, err
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return invalidFD, 0, err
	}
	return fd, sa.(*unix.SockaddrInet4).Port, nil
}

// startConnect begins a non-blocking connect to 127.0.0.1:port; the socket
// turns writable when the connection is established.
func startConnect(port int) (driver.FD, error) {
	fd, err := newSocket()
	if err != nil {
		return invalidFD, err
	}
	err = unix.Connect(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: port})
	if err != nil && !errors.Is(err, unix.EINPROGRESS) {
		unix.Close(fd)
		return invalidFD, err
	}
	return fd, nil
}

// acceptOne accepts a connection from a non-blocking listener, returning
// errWouldBlock while none is queued. The new socket is made non-blocking.
func acceptOne(l driver.FD) (driver.FD, error) {
	fd, _, err := unix.Accept(l)
	if err != nil {
		return invalidFD, mapErr(err)
	}
	unix.CloseOnExec(fd)
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return invalidFD, err
	}
	return fd, nil
}

func readSocket(fd driver.FD, p []byte) (int, error) {
	n, err := unix.Read(fd, p)
	if err != nil {
		return 0, mapErr(err)
	}
	return n, nil
}

func writeSocket(fd driver.FD, p []byte) (int, error) {
	n, err := unix.Write(fd, p)
	if err != nil {
		return 0, mapErr(err)
	}
	return n, nil
}

func shutdownWrite(fd driver.FD) error { return unix.Shutdown(fd, unix.SHUT_WR) }

func closeSocket(fd driver.FD) error { return unix.Close(fd) }

// resetSocket closes fd with SO_LINGER set to zero, which sends an RST.
func resetSocket(fd driver.FD) error {
	if err := unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0}); err != nil {
		return err
	}
	return unix.Close(fd)
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

func mapErr(err error) error {
	if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EWOULDBLOCK) {
		return errWouldBlock
	}
	return err
}

// interrupt sends the process SIGURG, which Go's runtime ignores but which
// makes a system call blocked on any of its threads return EINTR.
func interrupt() error { return unix.Kill(unix.Getpid(), unix.SIGURG) }
