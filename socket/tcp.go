package socket

import (
	"net"
	"sync"

	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/future"
)

// Listen returns a future that opens a TCP listener on addr ("host:port";
// an empty host means every IPv4 address, "[::]" every IPv6 one, port 0 a
// free port). IP literals are used as they are; a host name is resolved on
// a blocking goroutine (executor.SpawnBlocking) and the first address
// (IPv4 first) is used. The listener belongs to the runtime that polls the
// future.
func Listen(addr string) future.Future[future.Result[*Listener]] {
	return &localFuture[*Listener]{res: resolver{netw: "tcp", addr: addr, passive: true}, open: listenTCP}
}

// localFuture resolves a local address, then opens a socket on its first
// endpoint. Dropped before it is ready, it leaves nothing open.
type localFuture[T any] struct {
	res  resolver
	open func(cx *future.Context, ep endpoint) (T, error)
}

func (f *localFuture[T]) Poll(cx *future.Context) future.Poll[future.Result[T]] {
	r, ok := f.res.poll(cx).Value()
	if !ok {
		return future.Pending[future.Result[T]]()
	}
	if r.Err != nil {
		return future.Ready(future.Fail[T](&net.OpError{Op: "listen", Net: f.res.netw, Err: r.Err}))
	}
	v, err := f.open(cx, r.Value[0])
	return future.Ready(future.Result[T]{Value: v, Err: err})
}

// listenTCP opens a TCP listener on ep.
func listenTCP(cx *future.Context, ep endpoint) (*Listener, error) {
	sa, err := ep.sockaddr()
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: "tcp", Err: err}
	}
	return listenStream(cx, "tcp", ep.family(), sa)
}

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

// Listener accepts stream connections: TCP from Listen, Unix domain from
// ListenUnix. It belongs to the runtime that opened it. Close may be called
// from any goroutine.
type Listener struct{ fd *netFD }

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
	wait waitSlot
}

// Poll accepts a connection when one is queued.
func (f *AcceptFuture) Poll(cx *future.Context) future.Poll[future.Result[*Stream]] {
	f.wait.again(f.l.fd, driver.Read, cx)
	p := f.l.PollAccept(cx)
	f.wait.track(p.IsPending(), cx)
	return p
}

// Drop withdraws a pending accept.
func (f *AcceptFuture) Drop() { f.wait.drop(f.l.fd, driver.Read) }

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

// Connect returns a future that connects a TCP stream to addr
// ("host:port"). IP literals are used as they are; a host name is resolved
// on a blocking goroutine (executor.SpawnBlocking) and its addresses are
// tried in turn (IPv4 first) until one connects; the error is the first
// address's. The stream belongs to the runtime that polls the future.
//
// The connect is non-blocking: the future waits for the socket to become
// writable and then reads its error (SO_ERROR), so a refused connection is
// an error wrapping syscall.ECONNREFUSED.
func Connect(addr string) *ConnectFuture {
	return &ConnectFuture{netw: "tcp", res: &resolver{netw: "tcp", addr: addr}}
}

// dialTarget is one address a ConnectFuture tries.
type dialTarget struct {
	family int
	sa     sockaddr
	addr   net.Addr
}

// ConnectFuture is the future of Connect (and ConnectUnix). Dropping it, or
// calling its Close (from any goroutine), closes the socket of the attempt
// in progress; Close makes a pending poll complete with net.ErrClosed.
type ConnectFuture struct {
	// mu serialises Poll with Close, which may come from another
	// goroutine; a poll never blocks, so Close waits at most one poll.
	mu       sync.Mutex
	netw     string
	res      *resolver // nil when targets are known
	targets  []dialTarget
	next     int // index of the next target to try
	fd       *netFD
	firstErr error
	closed   bool
	waker    future.Waker
}

// Close abandons the connect: the socket in progress is closed and a
// pending (or later) poll returns an error wrapping net.ErrClosed. It is
// safe from any goroutine; a second Close returns an error wrapping
// net.ErrClosed.
func (f *ConnectFuture) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return &net.OpError{Op: "dial", Net: f.netw, Err: net.ErrClosed}
	}
	f.closed = true
	if f.fd != nil {
		_ = f.fd.close()
		f.fd = nil
	}
	// A poll waiting for the resolver (not on a socket) is woken here.
	f.waker.Wake()
	return nil
}

// Drop closes the socket of an attempt in progress.
func (f *ConnectFuture) Drop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	if f.fd != nil {
		_ = f.fd.close()
		f.fd = nil
	}
}

// Poll resolves the address, then connects to each target in turn.
func (f *ConnectFuture) Poll(cx *future.Context) future.Poll[future.Result[*Stream]] {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waker = cx.Waker()
	fail := func(err error) future.Poll[future.Result[*Stream]] {
		return future.Ready(future.Fail[*Stream](err))
	}
	if f.closed {
		return fail(&net.OpError{Op: "dial", Net: f.netw, Err: net.ErrClosed})
	}
	if f.res != nil {
		p := f.res.poll(cx)
		r, ok := p.Value()
		if !ok {
			return future.Pending[future.Result[*Stream]]()
		}
		if r.Err != nil {
			return fail(&net.OpError{Op: "dial", Net: f.netw, Err: r.Err})
		}
		f.res = nil
		for _, ep := range r.Value {
			sa, err := ep.sockaddr()
			if err != nil {
				return fail(&net.OpError{Op: "dial", Net: f.netw, Err: err})
			}
			f.targets = append(f.targets, dialTarget{family: ep.family(), sa: sa,
				addr: &net.TCPAddr{IP: ep.ip, Port: ep.port, Zone: ep.zone}})
		}
	}
	for {
		if f.fd == nil {
			if f.next == len(f.targets) {
				return fail(f.firstErr)
			}
			t := f.targets[f.next]
			f.next++
			if err := f.start(cx, t); err != nil {
				f.firstErr = firstOf(f.firstErr, &net.OpError{Op: "dial", Net: f.netw, Addr: t.addr, Err: err})
				continue
			}
		}
		s, err, done := f.finish(cx)
		if !done {
			return future.Pending[future.Result[*Stream]]()
		}
		if err == nil {
			return future.Ready(future.Ok(s))
		}
		f.firstErr = firstOf(f.firstErr, err)
	}
}

// start opens a socket and begins connecting to t; the attempt is f.fd.
func (f *ConnectFuture) start(cx *future.Context, t dialTarget) error {
	sysfd, err := sysSocket(t.family, sockStream, 0)
	if err != nil {
		return syscallErr("socket", err)
	}
	err = sysConnect(sysfd, t.sa)
	if err != nil && !isInProgress(err) {
		sysClose(sysfd)
		return syscallErr("connect", err)
	}
	if f.netw == "tcp" {
		// Package net's default, which request-response protocols want.
		_ = sysSetsockoptInt(sysfd, ipprotoTCP, tcpNoDelay, 1)
	}
	fd, err := newNetFD(cx, sysfd, f.netw, driver.Read|driver.Write)
	if err != nil {
		return err
	}
	fd.setAddrs(nil, t.addr) // for the errors of the attempt
	f.fd = fd
	return nil
}

func firstOf(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// finish waits for the attempt f.fd to complete; done is false while it is
// under way. A failed attempt's socket is closed.
func (f *ConnectFuture) finish(cx *future.Context) (s *Stream, err error, done bool) {
	fd := f.fd
	res := fd.pollIO(cx, driver.Write, "dial", func() (int, bool, error) {
		v, err := sysGetsockoptInt(fd.sysfd, solSocket, soError)
		if err != nil {
			return 0, false, syscallErr("getsockopt", err)
		}
		if err := errnoOf(v); err != nil {
			return 0, false, syscallErr("connect", err)
		}
		if _, err := sysGetpeername(fd.sysfd); err != nil {
			if isNotConnected(err) {
				return 0, false, errAgain // a spurious wake: still connecting
			}
			return 0, false, syscallErr("getpeername", err)
		}
		return 0, false, nil
	})
	r, ok := res.Value()
	if !ok {
		return nil, nil, false
	}
	f.fd = nil
	if r.Err != nil {
		_ = fd.close()
		return nil, r.Err, true
	}
	var local net.Addr
	if sa, err := sysGetsockname(fd.sysfd); err == nil {
		local = addrOfNet(f.netw, sa)
	}
	fd.setAddrs(local, f.targets[f.next-1].addr)
	return &Stream{fd: fd}, nil, true
}
