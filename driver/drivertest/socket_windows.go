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

var loopback = [4]byte{127, 0, 0, 1}

// x/sys/windows has neither accept nor ioctlsocket (its SetNonblock does
// nothing), so they are called from ws2_32 directly.
var (
	ws2           = windows.NewLazySystemDLL("ws2_32.dll")
	procAccept    = ws2.NewProc("accept")
	procIoctlsock = ws2.NewProc("ioctlsocket")
)

// fionbio is the ioctlsocket command that sets non-blocking mode.
const fionbio = 0x8004667e

func sysSocket() (driver.FD, error) {
	return windows.Socket(windows.AF_INET, windows.SOCK_STREAM, windows.IPPROTO_TCP)
}

// setNonblock makes fd non-blocking (sockets are not inherited by default).
func setNonblock(fd driver.FD) error {
	on := uint32(1)
	r, _, err := procIoctlsock.Call(uintptr(fd), fionbio, uintptr(unsafe.Pointer(&on)))
	if r != 0 {
		return err
	}
	return nil
}

func sysBind(fd driver.FD) error   { return windows.Bind(fd, &windows.SockaddrInet4{Addr: loopback}) }
func sysListen(fd driver.FD) error { return windows.Listen(fd, windows.SOMAXCONN) }

func sysPort(fd driver.FD) (int, error) {
	sa, err := windows.Getsockname(fd)
	if err != nil {
		return 0, err
	}
	return sa.(*windows.SockaddrInet4).Port, nil
}

// sysConnect starts a connect; one in progress is no error.
func sysConnect(fd driver.FD, port int) error {
	err := windows.Connect(fd, &windows.SockaddrInet4{Addr: loopback, Port: port})
	if errors.Is(err, windows.WSAEWOULDBLOCK) {
		return nil
	}
	return err
}

func sysAccept(l driver.FD) (driver.FD, error) {
	r, _, err := procAccept.Call(uintptr(l), 0, 0)
	if fd := driver.FD(r); fd != invalidFD {
		return fd, nil
	}
	return invalidFD, err
}

func sysRead(fd driver.FD, p []byte) (int, error) {
	var n, flags uint32
	buf := windows.WSABuf{Len: uint32(len(p)), Buf: &p[0]}
	err := windows.WSARecv(fd, &buf, 1, &n, &flags, nil, nil)
	return int(n), err
}

func sysWrite(fd driver.FD, p []byte) (int, error) {
	var n uint32
	buf := windows.WSABuf{Len: uint32(len(p)), Buf: &p[0]}
	err := windows.WSASend(fd, &buf, 1, &n, 0, nil, nil)
	return int(n), err
}

func sysLinger(fd driver.FD) error {
	return windows.SetsockoptLinger(fd, windows.SOL_SOCKET, windows.SO_LINGER, &windows.Linger{Onoff: 1, Linger: 0})
}

func shutdownWrite(fd driver.FD) error { return windows.Shutdown(fd, windows.SHUT_WR) }

func closeSocket(fd driver.FD) error { return windows.Closesocket(fd) }

func wouldBlock(err error) bool { return errors.Is(err, windows.WSAEWOULDBLOCK) }

// ensureDescriptors reports whether n more sockets fit: Windows has no
// per-process descriptor limit to raise.
func ensureDescriptors(int) (bool, error) { return true, nil }

// interrupt reports that Windows has no signals to interrupt a Wait with.
func interrupt() error { return errors.ErrUnsupported }
