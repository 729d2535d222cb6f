package socket

import (
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"

	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/executor"
	"github.com/libasync/libasync/future"
)

// pollN is the result of a byte-counting poll.
type pollN = future.Poll[future.Result[int]]

func readyN(n int) pollN    { return future.Ready(future.Ok(n)) }
func failN(err error) pollN { return future.Ready(future.Fail[int](err)) }

// refs counts the system calls in flight on a descriptor and records its
// Close, so that the descriptor is closed exactly once, and only when no
// system call on it runs (a closed number could be reused by another open
// while a read still uses it). It is a much smaller cousin of Go's
// internal/poll fdMutex: operations here never block, so there is nothing
// to queue, only to count.
//
// The word holds the closed flag in bit 0 and the count of references in
// the bits above it.
type refs struct{ state atomic.Uint64 }

const (
	refClosed = 1
	refOne    = 2
)

// incref takes a reference for a system call, or reports false once Close
// began. The CAS (sequentially consistent, as every sync/atomic operation)
// orders it against markClosed: either the reference is counted before the
// flag is set, and the closer's final decref waits for it, or incref sees
// the flag.
func (r *refs) incref() bool {
	for {
		s := r.state.Load()
		if s&refClosed != 0 {
			return false
		}
		if r.state.CompareAndSwap(s, s+refOne) {
			return true
		}
	}
}

// decref drops a reference and reports whether the caller must now close
// the descriptor: Close began and this was the last reference.
func (r *refs) decref() bool {
	return r.state.Add(^uint64(refOne-1)) == refClosed
}

// markClosed sets the closed flag and takes a reference for the closer, or
// reports false when Close already ran. The closer's reference keeps the
// descriptor open until it has deregistered it.
func (r *refs) markClosed() bool {
	for {
		s := r.state.Load()
		if s&refClosed != 0 {
			return false
		}
		if r.state.CompareAndSwap(s, s|refClosed+refOne) {
			return true
		}
	}
}

// closed reports whether Close began.
func (r *refs) closed() bool { return r.state.Load()&refClosed != 0 }

// netFD is a non-blocking descriptor registered with a reactor: the part
// every socket type of this package (and FD) shares.
type netFD struct {
	sysfd driver.FD
	reg   *executor.Registration
	refs  refs
	net   string // "tcp", "udp", "unix", "fd": the Net of errors and addresses
	// addrs holds the local and remote addresses once known: set when the
	// socket is made (a listener, a connect), or on the first query (an
	// accepted stream, whose addresses most servers never ask for: not
	// fetching them saves two system calls per accept and their memory).
	// Atomic, since a query or a UDP Connect may run on any goroutine.
	addrs atomic.Pointer[addrPair]
	// borrowed marks a descriptor the caller keeps (WatchFD): closing
	// deregisters it and leaves it open.
	borrowed bool
	// wrShut is set by ShutdownWrite: later writes fail with net.ErrClosed.
	// It is only ever set, and a write racing the shutdown may go either
	// way, as with any two unordered calls.
	wrShut atomic.Bool
}

// newNetFD registers sysfd with the reactor of cx for interest; on failure
// it closes sysfd.
func newNetFD(cx *future.Context, sysfd driver.FD, netw string, interest driver.Interest) (*netFD, error) {
	r, err := executor.ReactorOf(cx)
	if err != nil {
		sysClose(sysfd)
		return nil, err
	}
	reg, err := r.Register(sysfd, interest)
	if err != nil {
		sysClose(sysfd)
		return nil, err
	}
	return &netFD{sysfd: sysfd, reg: reg, net: netw}, nil
}

// addrPair is a socket's local and remote address (nil when it has none).
type addrPair struct{ local, remote net.Addr }

// setAddrs records the addresses.
func (fd *netFD) setAddrs(local, remote net.Addr) { fd.addrs.Store(&addrPair{local, remote}) }

// knownAddrs returns the addresses recorded so far, without asking the
// system.
func (fd *netFD) knownAddrs() addrPair {
	if p := fd.addrs.Load(); p != nil {
		return *p
	}
	return addrPair{}
}

// getAddrs returns the addresses, asking the system the first time; after
// Close, only what was recorded before.
func (fd *netFD) getAddrs() addrPair {
	if p := fd.addrs.Load(); p != nil {
		return *p
	}
	if !fd.refs.incref() {
		return addrPair{}
	}
	var a addrPair
	if sa, err := sysGetsockname(fd.sysfd); err == nil {
		a.local = addrOfNet(fd.net, sa)
	}
	if sa, err := sysGetpeername(fd.sysfd); err == nil {
		a.remote = addrOfNet(fd.net, sa)
	}
	fd.decref()
	// Another query may have stored first; both found the same addresses.
	fd.addrs.CompareAndSwap(nil, &a)
	return a
}

// opError wraps err as package net does: a *net.OpError around it (for a
// system call, an *os.SyscallError around the errno), so that errors.Is
// finds the errno, the runtime's errors (ErrBusy, ErrWrongRuntime,
// future.ErrClosed) and, once Close ran, net.ErrClosed. io.EOF stays bare,
// since callers compare it with ==.
func (fd *netFD) opError(op string, err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	if errors.Is(err, future.ErrClosed) && fd.refs.closed() {
		// The registration was closed by our own Close, not by the
		// runtime's shutdown.
		err = net.ErrClosed
	}
	a := fd.knownAddrs()
	return &net.OpError{Op: op, Net: fd.net, Source: a.local, Addr: a.remote, Err: err}
}

// errClosed is the error of an operation started after Close.
func (fd *netFD) errClosed(op string) error { return fd.opError(op, net.ErrClosed) }

// syscallErr wraps an errno with the name of the system call.
func syscallErr(name string, err error) error {
	if err == nil {
		return nil
	}
	return os.NewSyscallError(name, portableErr(err))
}

// ioOp is one non-blocking attempt of an operation: it returns the outcome
// of the system call, which again is EAGAIN when the direction is not ready.
// drained reports whether the call showed the direction to be empty (a short
// read) so readiness may be cleared without another attempt.
type ioOp func() (n int, drained bool, err error)

// pollIO runs op when dir is ready, following the reactor's protocol: on
// EAGAIN the readiness is cleared and the poll goes back to the reactor,
// which either finds newer readiness or parks cx's waker.
func (fd *netFD) pollIO(cx *future.Context, dir driver.Interest, name string, op ioOp) pollN {
	if !fd.refs.incref() {
		return failN(fd.errClosed(name))
	}
	defer fd.decref()
	for {
		p := fd.reg.PollReady(cx, dir)
		r, ok := p.Value()
		if !ok {
			return future.Pending[future.Result[int]]()
		}
		if r.Err != nil {
			return failN(fd.opError(name, r.Err))
		}
		n, drained, err := op()
		if err == nil {
			if drained {
				// Edge-triggered drivers report data that arrives later as
				// a new event, and the others re-check on rearm, so the
				// system call that would only answer EAGAIN is saved. The
				// error is ignored: a failure here shows again on the next
				// poll, when the reactor is asked anew.
				_ = fd.reg.ClearReady(r.Value)
			}
			return readyN(n)
		}
		if !isAgain(err) {
			if _, wrapped := err.(*os.SyscallError); !wrapped {
				err = syscallErr(name, err)
			}
			return failN(fd.opError(name, err))
		}
		if r.Value.Readiness&(driver.Readable|driver.Writable|driver.Error) == 0 {
			// Reported only as closed, yet the call would block: nothing
			// could clear that readiness, so waiting again would spin.
			return failN(fd.opError(name, syscallErr(name, err)))
		}
		if err := fd.reg.ClearReady(r.Value); err != nil {
			if fd.refs.closed() {
				// A Close on another goroutine deregistered the fd between
				// the readiness check and the rearm, and the driver said
				// "not registered".
				return failN(fd.errClosed(name))
			}
			return failN(fd.opError(name, err))
		}
	}
}

// decref drops a reference and closes the descriptor if it was the last
// one after Close.
func (fd *netFD) decref() {
	if fd.refs.decref() && !fd.borrowed {
		sysClose(fd.sysfd)
	}
}

// pollRead is the stream read shared by TCP, Unix and FD streams: a read of
// 0 bytes into a non-empty p is the end of the stream.
func (fd *netFD) pollRead(cx *future.Context, p []byte) pollN {
	if len(p) == 0 {
		return readyN(0)
	}
	res := fd.pollIO(cx, driver.Read, "read", func() (int, bool, error) {
		n, err := sysRead(fd.sysfd, p)
		return n, n > 0 && n < len(p), err
	})
	if v, ok := res.Value(); ok && v.Err == nil && v.Value == 0 {
		return failN(io.EOF)
	}
	return res
}

// pollWrite is the stream write shared by TCP, Unix and FD streams.
func (fd *netFD) pollWrite(cx *future.Context, p []byte) pollN {
	if fd.wrShut.Load() {
		return failN(fd.errClosed("write"))
	}
	if len(p) == 0 {
		return readyN(0)
	}
	return fd.pollIO(cx, driver.Write, "write", func() (int, bool, error) {
		n, err := sysWrite(fd.sysfd, p)
		return n, false, err
	})
}

// close deregisters and closes the descriptor once no system call on it
// runs; pending operations complete with net.ErrClosed (the reactor wakes
// their tasks). A second close gives net.ErrClosed.
func (fd *netFD) close() error {
	if !fd.refs.markClosed() {
		return fd.errClosed("close")
	}
	// The registration's error is ignored: after an executor shutdown it is
	// already gone, and the descriptor must be closed either way.
	_ = fd.reg.Deregister()
	fd.decref()
	return nil
}

// control runs fn on the descriptor while holding a reference (socket
// options, shutdown, addresses).
func (fd *netFD) control(op string, fn func(driver.FD) error) error {
	if !fd.refs.incref() {
		return fd.errClosed(op)
	}
	err := fn(fd.sysfd)
	fd.decref()
	if err != nil {
		return fd.opError(op, err)
	}
	return nil
}
