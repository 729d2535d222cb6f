package socket

import (
	"net"
	"sync"

	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/future"
)

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

// dialTarget is one address a ConnectFuture tries.
type dialTarget struct {
	family int
	sa     sockaddr
	addr   net.Addr
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
	if f.res != nil {
		f.res.drop()
		f.res = nil
	}
	// A poll waiting for the resolver (not on a socket) is woken here.
	f.waker.Wake()
	return nil
}

// Drop closes the socket of an attempt in progress, or cancels the name
// lookup in flight.
func (f *ConnectFuture) Drop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	if f.res != nil {
		f.res.drop()
		f.res = nil
	}
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
