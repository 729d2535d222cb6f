package socket

import (
	"net"

	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/future"
)

// Datagram is what a receive reports: N bytes were stored, from Addr (nil
// for a connected socket's Recv). Truncated says the datagram was longer
// than the buffer: its first N bytes were stored and the rest is lost, as
// the system discards it (MSG_TRUNC on unix, WSAEMSGSIZE on Windows).
type Datagram struct {
	N         int
	Addr      *net.UDPAddr
	Truncated bool
}

// Bind returns a future that opens a UDP socket bound to addr ("host:port";
// an empty host means every IPv4 address, "[::]" every IPv6 one, port 0 a
// free port); a host name is resolved as Listen does. The socket belongs to
// the runtime that polls the future.
func Bind(addr string) future.Future[future.Result[*UDPSocket]] {
	return &localFuture[*UDPSocket]{res: resolver{netw: "udp", addr: addr, passive: true}, open: bindUDP}
}

// bindUDP opens a UDP socket bound to ep.
func bindUDP(cx *future.Context, ep endpoint) (*UDPSocket, error) {
	fail := func(err error) (*UDPSocket, error) {
		return nil, &net.OpError{Op: "listen", Net: "udp", Err: err}
	}
	sa, err := ep.sockaddr()
	if err != nil {
		return fail(err)
	}
	sysfd, err := sysSocket(ep.family(), sockDgram, 0)
	if err != nil {
		return fail(syscallErr("socket", err))
	}
	if err := sysBind(sysfd, sa); err != nil {
		sysClose(sysfd)
		return fail(syscallErr("bind", err))
	}
	local, err := sysGetsockname(sysfd)
	if err != nil {
		sysClose(sysfd)
		return fail(syscallErr("getsockname", err))
	}
	fd, err := newNetFD(cx, sysfd, "udp", driver.Read|driver.Write)
	if err != nil {
		return fail(err)
	}
	fd.setAddrs(udpAddrOf(local), nil)
	return &UDPSocket{fd: fd, family: ep.family()}, nil
}

// UDPSocket is a UDP socket. One receive and one send may be pending at
// once (from two tasks); a second gets aio.ErrBusy. A Pending poll holds its
// direction until the socket is ready or closes; the futures (SendTo, Send,
// RecvFrom, Recv), when dropped, give it back at once. Empty datagrams are
// sent and received like any other. It belongs to the runtime that opened
// it; Close, Connect and the getters may be called from any goroutine.
type UDPSocket struct {
	fd     *netFD
	family int
}

// LocalAddr returns the bound address (a *net.UDPAddr).
func (u *UDPSocket) LocalAddr() net.Addr { return u.fd.knownAddrs().local }

// RemoteAddr returns the address given to Connect, or nil.
func (u *UDPSocket) RemoteAddr() net.Addr { return u.fd.knownAddrs().remote }

// Close closes the socket; pending operations complete with net.ErrClosed,
// a second Close returns an error wrapping it.
func (u *UDPSocket) Close() error { return u.fd.close() }

// Connect fixes the socket's peer: Send and Recv then exchange datagrams
// with addr only (others are filtered by the system), and the system may
// report errors such as ECONNREFUSED from the peer on a later Recv. addr
// must be an IP literal of the socket's family.
func (u *UDPSocket) Connect(addr *net.UDPAddr) error {
	if addr == nil {
		return u.fd.opError("connect", errInvalid)
	}
	sa, err := inetSockaddr(u.family, addr.IP, addr.Port, addr.Zone)
	if err != nil {
		return u.fd.opError("connect", err)
	}
	err = u.fd.control("connect", func(fd driver.FD) error { return syscallErr("connect", sysConnect(fd, sa)) })
	if err == nil {
		u.fd.setAddrs(u.LocalAddr(), addr)
	}
	return err
}

// PollSendTo sends p as one datagram to addr, or returns Pending while the
// socket's send buffer is full. It reports len(p) when sent.
func (u *UDPSocket) PollSendTo(cx *future.Context, p []byte, addr *net.UDPAddr) future.Poll[future.Result[int]] {
	if addr == nil {
		return failN(u.fd.opError("write", errInvalid))
	}
	sa, err := inetSockaddr(u.family, addr.IP, addr.Port, addr.Zone)
	if err != nil {
		return failN(u.fd.opError("write", err))
	}
	return u.fd.pollIO(cx, driver.Write, "sendto", func() (int, bool, error) {
		n, err := sysSendTo(u.fd.sysfd, p, sa)
		return n, false, err
	})
}

// PollSend sends p as one datagram to the connected peer.
func (u *UDPSocket) PollSend(cx *future.Context, p []byte) future.Poll[future.Result[int]] {
	return u.fd.pollIO(cx, driver.Write, "send", func() (int, bool, error) {
		n, err := sysSend(u.fd.sysfd, p)
		return n, false, err
	})
}

// PollRecvFrom receives one datagram into p, or returns Pending until one
// arrives. See Datagram for truncation.
func (u *UDPSocket) PollRecvFrom(cx *future.Context, p []byte) future.Poll[future.Result[Datagram]] {
	var d Datagram
	res := u.fd.pollIO(cx, driver.Read, "recvfrom", func() (int, bool, error) {
		n, from, trunc, err := sysRecvFrom(u.fd.sysfd, p)
		d = Datagram{N: n, Addr: udpAddrOf(from), Truncated: trunc}
		return n, false, err
	})
	r, ok := res.Value()
	if !ok {
		return future.Pending[future.Result[Datagram]]()
	}
	if r.Err != nil {
		return future.Ready(future.Fail[Datagram](r.Err))
	}
	return future.Ready(future.Ok(d))
}

// SendTo returns a future of PollSendTo. Dropping it while pending sends
// nothing.
func (u *UDPSocket) SendTo(p []byte, addr *net.UDPAddr) future.Future[future.Result[int]] {
	return newOpFuture(u.fd, driver.Write, func(cx *future.Context) future.Poll[future.Result[int]] {
		return u.PollSendTo(cx, p, addr)
	})
}

// Send returns a future of PollSend.
func (u *UDPSocket) Send(p []byte) future.Future[future.Result[int]] {
	return newOpFuture(u.fd, driver.Write, func(cx *future.Context) future.Poll[future.Result[int]] {
		return u.PollSend(cx, p)
	})
}

// RecvFrom returns a future of PollRecvFrom. Dropping it while pending
// loses no datagram.
func (u *UDPSocket) RecvFrom(p []byte) future.Future[future.Result[Datagram]] {
	return newOpFuture(u.fd, driver.Read, func(cx *future.Context) future.Poll[future.Result[Datagram]] {
		return u.PollRecvFrom(cx, p)
	})
}

// Recv returns a future that receives one datagram from the connected peer
// (Datagram.Addr is the peer's).
func (u *UDPSocket) Recv(p []byte) future.Future[future.Result[Datagram]] { return u.RecvFrom(p) }
