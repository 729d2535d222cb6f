//go:build unix

package socket

import (
	"errors"
	"net"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/libasync/libasync/driver"
)

// sockaddr is the operating system's socket address.
type sockaddr = unix.Sockaddr

// The constants the shared code names.
const (
	afInet      = unix.AF_INET
	afInet6     = unix.AF_INET6
	sockStream  = unix.SOCK_STREAM
	sockDgram   = unix.SOCK_DGRAM
	ipprotoTCP  = unix.IPPROTO_TCP
	solSocket   = unix.SOL_SOCKET
	soError     = unix.SO_ERROR
	soKeepAlive = unix.SO_KEEPALIVE
	tcpNoDelay  = unix.TCP_NODELAY
	listenQueue = unix.SOMAXCONN
)

// isAgain reports whether err says "not ready, try later".
func isAgain(err error) bool { return err == unix.EAGAIN || err == unix.EWOULDBLOCK }

// isInProgress reports whether a non-blocking connect is under way.
func isInProgress(err error) bool { return err == unix.EINPROGRESS || err == unix.EALREADY }

// isNotConnected reports the getpeername error of a connect still under way.
func isNotConnected(err error) bool { return err == unix.ENOTCONN }

// portableErr returns err: unix errnos are already the ones package
// syscall names.
func portableErr(err error) error { return err }

// errnoOf turns a SO_ERROR value into an error (nil for 0).
func errnoOf(v int) error {
	if v == 0 {
		return nil
	}
	return syscall.Errno(v)
}

// ignoringEINTR retries fn while a signal interrupts it.
func ignoringEINTR[T any](fn func() (T, error)) (T, error) {
	for {
		v, err := fn()
		if err != unix.EINTR {
			return v, err
		}
	}
}

// sysRead and sysWrite retry EINTR in a plain loop rather than through
// ignoringEINTR: they are on every request's path, and a loop costs no
// closure call.
func sysRead(fd driver.FD, p []byte) (int, error) {
	for {
		n, err := unix.Read(fd, p)
		if err == nil {
			return n, nil
		}
		if err != unix.EINTR {
			return 0, err
		}
	}
}

func sysWrite(fd driver.FD, p []byte) (int, error) {
	for {
		n, err := unix.Write(fd, p)
		if err == nil {
			return n, nil
		}
		if err != unix.EINTR {
			return 0, err
		}
	}
}

// sysSend writes a datagram on a connected socket; an empty one is sent too
// (write(2) of zero bytes sends nothing on some systems).
func sysSend(fd driver.FD, p []byte) (int, error) {
	_, err := ignoringEINTR(func() (struct{}, error) { return struct{}{}, unix.Sendto(fd, p, 0, nil) })
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

func sysSendTo(fd driver.FD, p []byte, sa sockaddr) (int, error) {
	_, err := ignoringEINTR(func() (struct{}, error) { return struct{}{}, unix.Sendto(fd, p, 0, sa) })
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// sysRecvFrom receives one datagram into p: its length in p, its sender,
// and whether it was longer than p (the rest is discarded by the kernel).
func sysRecvFrom(fd driver.FD, p []byte) (n int, from sockaddr, trunc bool, err error) {
	type out struct {
		n     int
		flags int
		from  sockaddr
	}
	o, err := ignoringEINTR(func() (out, error) {
		n, _, flags, from, err := unix.Recvmsg(fd, p, nil, 0)
		return out{n, flags, from}, err
	})
	if err != nil {
		return 0, nil, false, err
	}
	return o.n, o.from, o.flags&unix.MSG_TRUNC != 0, nil
}

func sysClose(fd driver.FD) { _ = unix.Close(fd) }

func sysBind(fd driver.FD, sa sockaddr) error { return unix.Bind(fd, sa) }

func sysListen(fd driver.FD, backlog int) error { return unix.Listen(fd, backlog) }

func sysConnect(fd driver.FD, sa sockaddr) error {
	// Not retried on EINTR: the connect goes on in the kernel, and a second
	// call would answer EALREADY.
	err := unix.Connect(fd, sa)
	if err == unix.EINTR {
		return unix.EINPROGRESS
	}
	return err
}

func sysShutdownWrite(fd driver.FD) error { return unix.Shutdown(fd, unix.SHUT_WR) }

func sysGetsockoptInt(fd driver.FD, level, opt int) (int, error) {
	return unix.GetsockoptInt(fd, level, opt)
}

func sysSetsockoptInt(fd driver.FD, level, opt, v int) error {
	return unix.SetsockoptInt(fd, level, opt, v)
}

func sysGetsockname(fd driver.FD) (sockaddr, error) { return unix.Getsockname(fd) }

func sysGetpeername(fd driver.FD) (sockaddr, error) { return unix.Getpeername(fd) }

// inetSockaddr builds the address of ip:port for a socket of family.
func inetSockaddr(family int, ip net.IP, port int, zone string) (sockaddr, error) {
	if family == afInet {
		sa := &unix.SockaddrInet4{Port: port}
		if copy(sa.Addr[:], ip.To4()) != net.IPv4len {
			return nil, errors.New("not an IPv4 address")
		}
		return sa, nil
	}
	sa := &unix.SockaddrInet6{Port: port, ZoneId: zoneIndex(zone)}
	if copy(sa.Addr[:], ip.To16()) != net.IPv6len {
		return nil, errors.New("not an IP address")
	}
	return sa, nil
}

// inetAddrOf returns the IP, port and zone of an inet address, or ok false.
func inetAddrOf(sa sockaddr) (ip net.IP, port int, zone string, ok bool) {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return net.IPv4(sa.Addr[0], sa.Addr[1], sa.Addr[2], sa.Addr[3]), sa.Port, "", true
	case *unix.SockaddrInet6:
		return append(net.IP(nil), sa.Addr[:]...), sa.Port, zoneName(sa.ZoneId), true
	}
	return nil, 0, "", false
}

// errBadFD is the error of a descriptor that is not open.
var errBadFD error = unix.EBADF

// errAgain is the error of an attempt that found the direction not ready.
var errAgain error = unix.EAGAIN

// isAborted reports a connection that went away while queued for accept.
func isAborted(err error) bool { return err == unix.ECONNABORTED }

// prepareListener sets what a listening socket needs before bind: address
// reuse, so that a restarted server binds while old connections linger in
// TIME_WAIT.
func prepareListener(fd driver.FD, family int) error {
	return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
}

// sysReadyNow asks the system, without waiting, whether fd is ready for
// dir: the readiness, or errAgain when it is not.
func sysReadyNow(fd driver.FD, dir driver.Interest) (driver.Readiness, error) {
	ev := int16(unix.POLLIN)
	if dir == driver.Write {
		ev = unix.POLLOUT
	}
	p := []unix.PollFd{{Fd: int32(fd), Events: ev}}
	if _, err := ignoringEINTR(func() (int, error) { return unix.Poll(p, 0) }); err != nil {
		return 0, syscallErr("poll", err)
	}
	return readinessOf(p[0].Revents&unix.POLLNVAL != 0, p[0].Revents&ev != 0, p[0].Revents&unix.POLLHUP != 0, p[0].Revents&unix.POLLERR != 0, dir)
}
