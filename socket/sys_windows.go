//go:build windows

package socket

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/libasync/libasync/driver"
)

// sockaddr is the operating system's socket address.
type sockaddr = windows.Sockaddr

// The constants the shared code names. x/sys/windows lacks SO_ERROR and
// FIONBIO; their values are Winsock's.
const (
	afInet      = windows.AF_INET
	afInet6     = windows.AF_INET6
	sockStream  = windows.SOCK_STREAM
	sockDgram   = windows.SOCK_DGRAM
	ipprotoTCP  = windows.IPPROTO_TCP
	solSocket   = windows.SOL_SOCKET
	soError     = 0x1007
	soKeepAlive = windows.SO_KEEPALIVE
	tcpNoDelay  = windows.TCP_NODELAY
	listenQueue = windows.SOMAXCONN
	fionbio     = 0x8004667e
)

// Winsock calls that x/sys/windows does not wrap (its Accept is a stub).
var (
	ws2         = windows.NewLazySystemDLL("ws2_32.dll")
	procAccept  = ws2.NewProc("accept")
	procIoctlSk = ws2.NewProc("ioctlsocket")
	procWSAPoll = ws2.NewProc("WSAPoll")
)

// errBadFD is the error of a handle that is not an open socket.
var errBadFD error = windows.WSAENOTSOCK

// errAgain is the error of an attempt that found the direction not ready.
var errAgain error = windows.WSAEWOULDBLOCK

// isAgain reports whether err says "not ready, try later".
func isAgain(err error) bool { return err == windows.WSAEWOULDBLOCK }

// isInProgress reports whether a non-blocking connect is under way.
func isInProgress(err error) bool {
	return err == windows.WSAEWOULDBLOCK || err == windows.WSAEINPROGRESS || err == windows.WSAEALREADY
}

// isNotConnected reports the getpeername error of a connect still under way.
func isNotConnected(err error) bool { return err == windows.WSAENOTCONN }

// isAborted reports a connection that went away while queued for accept.
func isAborted(err error) bool { return err == windows.WSAECONNABORTED || err == windows.WSAECONNRESET }

// errnoOf turns a SO_ERROR value into an error (nil for 0).
func errnoOf(v int) error {
	if v == 0 {
		return nil
	}
	return windows.Errno(v)
}

// wsaErrno is a Winsock error that errors.Is also matches with the errno of
// the same meaning that package syscall defines on every system
// (syscall.ECONNREFUSED for WSAECONNREFUSED), so that portable code needs
// one check.
type wsaErrno struct{ windows.Errno }

func (e wsaErrno) Unwrap() error { return e.Errno }

func (e wsaErrno) Is(target error) bool { return target == portable[e.Errno] }

// portable maps Winsock errors to package syscall's errno of the same
// meaning.
var portable = map[windows.Errno]error{
	windows.WSAECONNREFUSED:  syscall.ECONNREFUSED,
	windows.WSAECONNRESET:    syscall.ECONNRESET,
	windows.WSAECONNABORTED:  syscall.ECONNABORTED,
	windows.WSAETIMEDOUT:     syscall.ETIMEDOUT,
	windows.WSAENETUNREACH:   syscall.ENETUNREACH,
	windows.WSAEHOSTUNREACH:  syscall.EHOSTUNREACH,
	windows.WSAEADDRINUSE:    syscall.EADDRINUSE,
	windows.WSAEADDRNOTAVAIL: syscall.EADDRNOTAVAIL,
	windows.WSAENOTCONN:      syscall.ENOTCONN,
	windows.WSAESHUTDOWN:     syscall.EPIPE,
}

// portableErr wraps the Winsock errors of portable.
func portableErr(err error) error {
	if e, ok := err.(windows.Errno); ok && portable[e] != nil {
		return wsaErrno{e}
	}
	return err
}

// setNonblock puts a socket into non-blocking mode (FIONBIO).
func setNonblock(fd driver.FD) error {
	on := uint32(1)
	r, _, e := procIoctlSk.Call(uintptr(fd), fionbio, uintptr(unsafe.Pointer(&on)))
	if r != 0 {
		return e
	}
	return nil
}

// sysSocket opens a non-blocking, non-inheritable socket.
func sysSocket(family, sotype, proto int) (driver.FD, error) {
	fd, err := windows.WSASocket(int32(family), int32(sotype), int32(proto), nil, 0,
		windows.WSA_FLAG_OVERLAPPED|windows.WSA_FLAG_NO_HANDLE_INHERIT)
	if err != nil {
		return windows.InvalidHandle, err
	}
	if err := setNonblock(fd); err != nil {
		windows.Closesocket(fd)
		return windows.InvalidHandle, err
	}
	return fd, nil
}

// sysAccept takes a connection off a listener as a non-blocking socket.
func sysAccept(fd driver.FD) (driver.FD, sockaddr, error) {
	var rsa windows.RawSockaddrAny
	l := int32(unsafe.Sizeof(rsa))
	r, _, e := procAccept.Call(uintptr(fd), uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&l)))
	nfd := windows.Handle(r)
	if nfd == windows.InvalidHandle {
		return windows.InvalidHandle, nil, e
	}
	if err := setNonblock(nfd); err != nil {
		windows.Closesocket(nfd)
		return windows.InvalidHandle, nil, err
	}
	sa, _ := rsa.Sockaddr()
	return nfd, sa, nil
}

func sysRead(fd driver.FD, p []byte) (int, error) {
	var n, flags uint32
	buf := windows.WSABuf{Len: uint32(len(p)), Buf: unsafe.SliceData(p)}
	if err := windows.WSARecv(fd, &buf, 1, &n, &flags, nil, nil); err != nil {
		return 0, err
	}
	return int(n), nil
}

func sysWrite(fd driver.FD, p []byte) (int, error) {
	var n uint32
	buf := windows.WSABuf{Len: uint32(len(p)), Buf: unsafe.SliceData(p)}
	if err := windows.WSASend(fd, &buf, 1, &n, 0, nil, nil); err != nil {
		return 0, err
	}
	return int(n), nil
}

// sysSend sends a datagram on a connected socket; an empty one is sent too.
func sysSend(fd driver.FD, p []byte) (int, error) { return sysWrite(fd, p) }

func sysSendTo(fd driver.FD, p []byte, sa sockaddr) (int, error) {
	if err := windows.Sendto(fd, p, 0, sa); err != nil {
		return 0, err
	}
	return len(p), nil
}

// sysRecvFrom receives one datagram into p: its length in p, its sender,
// and whether it was longer than p (Winsock then fills p, discards the
// rest and answers WSAEMSGSIZE).
func sysRecvFrom(fd driver.FD, p []byte) (n int, from sockaddr, trunc bool, err error) {
	var got, flags uint32
	var rsa windows.RawSockaddrAny
	l := int32(unsafe.Sizeof(rsa))
	buf := windows.WSABuf{Len: uint32(len(p)), Buf: unsafe.SliceData(p)}
	err = windows.WSARecvFrom(fd, &buf, 1, &got, &flags, &rsa, &l, nil, nil)
	if err == windows.WSAEMSGSIZE {
		got, trunc, err = uint32(len(p)), true, nil
	}
	if err != nil {
		return 0, nil, false, err
	}
	from, _ = rsa.Sockaddr()
	return int(got), from, trunc, nil
}

func sysClose(fd driver.FD) { _ = windows.Closesocket(fd) }

func sysBind(fd driver.FD, sa sockaddr) error { return windows.Bind(fd, sa) }

func sysListen(fd driver.FD, backlog int) error { return windows.Listen(fd, backlog) }

func sysConnect(fd driver.FD, sa sockaddr) error { return windows.Connect(fd, sa) }

func sysShutdownWrite(fd driver.FD) error { return windows.Shutdown(fd, windows.SHUT_WR) }

func sysGetsockoptInt(fd driver.FD, level, opt int) (int, error) {
	return windows.GetsockoptInt(fd, level, opt)
}

func sysSetsockoptInt(fd driver.FD, level, opt, v int) error {
	return windows.SetsockoptInt(fd, level, opt, v)
}

func sysGetsockname(fd driver.FD) (sockaddr, error) { return windows.Getsockname(fd) }

func sysGetpeername(fd driver.FD) (sockaddr, error) { return windows.Getpeername(fd) }

// prepareListener: Windows' SO_REUSEADDR would let another socket steal the
// port, and a closed listener's port is reusable without it.
func prepareListener(fd driver.FD, family int) error { return nil }

// setKeepAlivePeriod sets the idle time and the probe interval, in seconds
// (Windows 10 1709 and later; older systems and Wine answer
// WSAENOPROTOOPT, reported as ErrNotSupported).
func setKeepAlivePeriod(fd driver.FD, secs int) error {
	if err := windows.SetsockoptInt(fd, windows.IPPROTO_TCP, windows.TCP_KEEPIDLE, secs); err != nil {
		if err == windows.WSAENOPROTOOPT {
			return fmt.Errorf("%w: %w", ErrNotSupported, syscallErr("setsockopt", err))
		}
		return syscallErr("setsockopt", err)
	}
	return syscallErr("setsockopt", windows.SetsockoptInt(fd, windows.IPPROTO_TCP, windows.TCP_KEEPINTVL, secs))
}

// unixAddrOf: this package has no Unix domain sockets on Windows.
func unixAddrOf(sa sockaddr) net.Addr { return nil }

// inetSockaddr builds the address of ip:port for a socket of family.
func inetSockaddr(family int, ip net.IP, port int, zone string) (sockaddr, error) {
	if family == afInet {
		sa := &windows.SockaddrInet4{Port: port}
		if copy(sa.Addr[:], ip.To4()) != net.IPv4len {
			return nil, errors.New("not an IPv4 address")
		}
		return sa, nil
	}
	sa := &windows.SockaddrInet6{Port: port, ZoneId: zoneIndex(zone)}
	if copy(sa.Addr[:], ip.To16()) != net.IPv6len {
		return nil, errors.New("not an IP address")
	}
	return sa, nil
}

// inetAddrOf returns the IP, port and zone of an inet address, or ok false.
func inetAddrOf(sa sockaddr) (ip net.IP, port int, zone string, ok bool) {
	switch sa := sa.(type) {
	case *windows.SockaddrInet4:
		return net.IPv4(sa.Addr[0], sa.Addr[1], sa.Addr[2], sa.Addr[3]), sa.Port, "", true
	case *windows.SockaddrInet6:
		return append(net.IP(nil), sa.Addr[:]...), sa.Port, zoneName(sa.ZoneId), true
	}
	return nil, 0, "", false
}

// wsaPollFd is WSAPOLLFD.
type wsaPollFd struct {
	fd      windows.Handle
	events  int16
	revents int16
}

// The WSAPoll bits (x/sys/windows lacks them).
const (
	pollRdNorm = 0x0100
	pollWrNorm = 0x0010
	pollErr    = 0x0001
	pollHup    = 0x0002
	pollNval   = 0x0004
)

// sysReadyNow asks the system, without waiting, whether fd is ready for
// dir: the readiness, or errAgain when it is not.
func sysReadyNow(fd driver.FD, dir driver.Interest) (driver.Readiness, error) {
	ev := int16(pollRdNorm)
	if dir == driver.Write {
		ev = pollWrNorm
	}
	p := wsaPollFd{fd: fd, events: ev}
	r, _, e := procWSAPoll.Call(uintptr(unsafe.Pointer(&p)), 1, 0)
	if int32(r) < 0 {
		return 0, syscallErr("WSAPoll", e)
	}
	return readinessOf(p.revents&pollNval != 0, p.revents&ev != 0, p.revents&pollHup != 0, p.revents&pollErr != 0, dir)
}
