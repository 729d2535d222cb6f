//go:build windows

package drivertest

import (
	"errors"
	"unsafe"

	"github.com/libasync/libasync/driver"
	"golang.org/x/sys/windows"
)

// invalidFD is a descriptor no system call accepts.
const invalidFD = driver.FD(windows.InvalidHandle)

// x/sys/windows has neither accept nor ioctlsocket (its SetNonblock does
// nothing), so they are called from ws2_32 directly.
var (
	ws2           = windows.NewLazySystemDLL("ws2_32.dll")
	procAccept    = ws2.NewProc("accept")
	procIoctlsock = ws2.NewProc("ioctlsocket")
)

// fionbio is the ioctlsocket command that sets non-blocking mode.
const fionbio = 0x8004667e

func setNonblock(fd driver.FD) error {
	on := uint32(1)
	r, _, err := procIoctlsock.Call(uintptr(fd), fionbio, uintptr(unsafe.Pointer(&on)))
	if r != 0 {
		return err
	}
	return nil
}

// newSocket returns a non-blocking IPv4 TCP socket.
func newSocket() (driver.FD, error) {
	fd, err := windows.Socket(windows.AF_INET, windows.SOCK_STREAM, windows.IPPROTO_TCP)
	if err != nil {
		return invalidFD, err
	}
	if err := setNonblock(fd); err != nil {
		windows.Closesocket(fd)
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
	if err := windows.Bind(fd, &windows.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		windows.Closesocket(fd)
		return invalidFD, 0, err
	}
	if err := windows.Listen(fd, windows.SOMAXCONN); err != nil {
		windows.Closesocket(fd)
		return invalidFD, 0, err
	}
	sa, err := windows.Getsockname(fd)
	if err != nil {
		windows.Closesocket(fd)
		return invalidFD, 0, err
	}
	return fd, sa.(*windows.SockaddrInet4).Port, nil
}

// startConnect begins a non-blocking connect to 127.0.0.1:port; the socket
// turns writable when the connection is established.
func startConnect(port int) (driver.FD, error) {
	fd, err := newSocket()
	if err != nil {
		return invalidFD, err
	}
	err = windows.Connect(fd, &windows.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: port})
	if err != nil && !errors.Is(err, windows.WSAEWOULDBLOCK) {
		windows.Closesocket(fd)
		return invalidFD, err
	}
	return fd, nil
}

// acceptOne accepts a connection from a non-blocking listener, returning
// errWouldBlock while none is queued. The new socket is made non-blocking.
func acceptOne(l driver.FD) (driver.FD, error) {
	r, _, err := procAccept.Call(uintptr(l), 0, 0)
	fd := driver.FD(r)
	if fd == invalidFD {
		return invalidFD, mapErr(err)
	}
	if err := setNonblock(fd); err != nil {
		windows.Closesocket(fd)
		return invalidFD, err
	}
	return fd, nil
}

func readSocket(fd driver.FD, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n, flags uint32
	buf := windows.WSABuf{Len: uint32(len(p)), Buf: &p[0]}
	if err := windows.WSARecv(fd, &buf, 1, &n, &flags, nil, nil); err != nil {
		return 0, mapErr(err)
	}
	return int(n), nil
}

func writeSocket(fd driver.FD, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n uint32
	buf := windows.WSABuf{Len: uint32(len(p)), Buf: &p[0]}
	if err := windows.WSASend(fd, &buf, 1, &n, 0, nil, nil); err != nil {
		return 0, mapErr(err)
	}
	return int(n), nil
}

func shutdownWrite(fd driver.FD) error { return windows.Shutdown(fd, windows.SHUT_WR) }

func closeSocket(fd driver.FD) error { return windows.Closesocket(fd) }

// resetSocket closes fd with SO_LINGER set to zero, which sends an RST.
func resetSocket(fd driver.FD) error {
	if err := windows.SetsockoptLinger(fd, windows.SOL_SOCKET, windows.SO_LINGER, &windows.Linger{Onoff: 1, Linger: 0}); err != nil {
		return err
	}
	return windows.Closesocket(fd)
}

// ensureDescriptors reports whether n more sockets fit: Windows has no
// per-process descriptor limit to raise.
func ensureDescriptors(int) (bool, error) { return true, nil }

func mapErr(err error) error {
	if errors.Is(err, windows.WSAEWOULDBLOCK) {
		return errWouldBlock
	}
	return err
}

// interrupt reports that Windows has no signals to interrupt a Wait with.
func interrupt() error { return errors.ErrUnsupported }
