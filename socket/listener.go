package socket

import (
	"net"

	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/waitslot"
)

// Listener accepts stream connections: TCP from Listen, Unix domain from
// ListenUnix. It belongs to the runtime that opened it. Close may be called
// from any goroutine.
type Listener struct{ fd *netFD }

// listenStream opens a listening stream socket of family on addr.
func listenStream(cx *future.Context, netw string, family int, addr sockaddr) (*Listener, error) {
	fail := func(name string, err error) (*Listener, error) {
		return nil, &net.OpError{Op: "listen", Net: netw, Err: syscallErr(name, err)}
	}
	sysfd, err := sysSocket(family, sockStream, 0)
	if err != nil {
		return fail("socket", err)
	}
	if err := prepareListener(sysfd, family); err != nil {
		sysClose(sysfd)
		return fail("setsockopt", err)
	}
	if err := sysBind(sysfd, addr); err != nil {
		sysClose(sysfd)
		return fail("bind", err)
	}
	if err := sysListen(sysfd, listenQueue); err != nil {
		sysClose(sysfd)
		return fail("listen", err)
	}
	local, err := sysGetsockname(sysfd)
	if err != nil {
		sysClose(sysfd)
		return fail("getsockname", err)
	}
	fd, err := newNetFD(cx, sysfd, netw, driver.Read)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: netw, Err: err}
	}
	fd.setAddrs(addrOfNet(netw, local), nil)
	return &Listener{fd: fd}, nil
}

// Addr returns the address the listener is bound to (*net.TCPAddr or
// *net.UnixAddr; with port 0 asked for, the port the system chose).
func (l *Listener) Addr() net.Addr { return l.fd.knownAddrs().local }

// Close stops listening. A pending Accept completes with net.ErrClosed; a
// second Close returns an error wrapping net.ErrClosed.
func (l *Listener) Close() error { return l.fd.close() }

// Accept returns a future of the next connection. At most one Accept is
// pending at a time (another gets aio.ErrBusy).
func (l *Listener) Accept() *AcceptFuture { return &AcceptFuture{l: l} }

// AcceptFuture is the future of Accept. Dropping it before it is ready
// withdraws the wait and loses no connection: the next Accept gets it.
type AcceptFuture struct {
	l    *Listener
	wait waitslot.Slot
}

// Poll accepts a connection when one is queued.
func (f *AcceptFuture) Poll(cx *future.Context) future.Poll[future.Result[*Stream]] {
	f.wait.Again(cx, f.l.fd.withdraw(driver.Read))
	p := f.l.PollAccept(cx)
	f.wait.Track(p.IsPending(), cx)
	return p
}

// Drop withdraws a pending accept.
func (f *AcceptFuture) Drop() { f.wait.Drop(f.l.fd.withdraw(driver.Read)) }

// PollAccept takes the next connection off the queue, or returns Pending
// (cx's waker is woken when one arrives). The connection is a Stream of the
// runtime that polls. A Pending PollAccept holds the listener's one accept
// slot until a connection arrives or the listener closes; Accept's future,
// when dropped, gives the slot back at once.
func (l *Listener) PollAccept(cx *future.Context) future.Poll[future.Result[*Stream]] {
	var nfd driver.FD
	res := l.fd.pollIO(cx, driver.Read, "accept", func() (int, bool, error) {
		for {
			fd, _, err := sysAccept(l.fd.sysfd)
			if err != nil && isAborted(err) {
				continue // the peer gave up before we took it: take the next
			}
			nfd = fd
			return 0, false, err
		}
	})
	r, ok := res.Value()
	if !ok {
		return future.Pending[future.Result[*Stream]]()
	}
	if r.Err != nil {
		return future.Ready(future.Fail[*Stream](r.Err))
	}
	if l.fd.net == "tcp" {
		// Package net's default, which request-response protocols want.
		_ = sysSetsockoptInt(nfd, ipprotoTCP, tcpNoDelay, 1)
	}
	fd, err := newNetFD(cx, nfd, l.fd.net, driver.Read|driver.Write)
	if err != nil {
		return future.Ready(future.Fail[*Stream](&net.OpError{Op: "accept", Net: l.fd.net, Source: l.Addr(), Err: err}))
	}
	return future.Ready(future.Ok(&Stream{fd: fd}))
}
