package socket

import (
	"net"
	"time"

	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/future"
)

// Stream is a connected stream socket: TCP (from Connect or a TCP
// Listener's Accept) or, on unix systems, a Unix domain socket. It
// implements aio.Reader, aio.Writer, aio.CloseWriter, aio.ReadCanceler and
// aio.WriteCanceler, with one read and one write in progress at once (from
// two tasks, see aio.Split); a second concurrent reader or writer gets
// aio.ErrBusy.
//
// A Stream belongs to the runtime whose task created it: polling it from
// another gives executor.ErrWrongRuntime. Close, ShutdownWrite, the option
// setters and the address getters may be called from any goroutine.
//
// Errors are package net's: io.EOF at the end of the stream,
// *net.OpError wrapping *os.SyscallError wrapping the errno (errors.Is
// finds syscall.ECONNRESET), net.ErrClosed after Close.
type Stream struct{ fd *netFD }

// PollRead reads into p as aio.Reader says. A read that fills less than p
// returns at once; the stream does not wait to fill p.
func (s *Stream) PollRead(cx *future.Context, p []byte) future.Poll[future.Result[int]] {
	return s.fd.pollRead(cx, p)
}

// PollWrite writes from p as aio.Writer says; a short write returns what
// the kernel accepted.
func (s *Stream) PollWrite(cx *future.Context, p []byte) future.Poll[future.Result[int]] {
	return s.fd.pollWrite(cx, p)
}

// PollCloseWrite is ShutdownWrite as a poll (aio.CloseWriter); it never
// waits, since the stream buffers nothing.
func (s *Stream) PollCloseWrite(cx *future.Context) future.Poll[future.Result[struct{}]] {
	return future.Ready(future.Result[struct{}]{Err: s.ShutdownWrite()})
}

// CancelRead withdraws the pending read made with waker w (aio.ReadCanceler).
func (s *Stream) CancelRead(w future.Waker) { s.fd.reg.Release(driver.Read, w) }

// CancelWrite withdraws the pending write made with waker w
// (aio.WriteCanceler).
func (s *Stream) CancelWrite(w future.Waker) { s.fd.reg.Release(driver.Write, w) }

// ShutdownWrite shuts the write direction down: the peer reads io.EOF once
// it has read what was sent, reading goes on, and later writes fail with
// net.ErrClosed. A second call does nothing more.
func (s *Stream) ShutdownWrite() error {
	if s.fd.wrShut.Swap(true) {
		return nil
	}
	return s.fd.control("shutdown", func(fd driver.FD) error {
		return syscallErr("shutdown", sysShutdownWrite(fd))
	})
}

// Close closes the stream. A read or write pending on it completes with
// net.ErrClosed (its task is woken); the descriptor is closed once no
// system call on it runs. A second Close returns an error wrapping
// net.ErrClosed.
func (s *Stream) Close() error { return s.fd.close() }

// LocalAddr returns the local address (*net.TCPAddr or *net.UnixAddr).
func (s *Stream) LocalAddr() net.Addr { return s.fd.getAddrs().local }

// RemoteAddr returns the peer's address (*net.TCPAddr or *net.UnixAddr).
func (s *Stream) RemoteAddr() net.Addr { return s.fd.getAddrs().remote }

// SetNoDelay turns Nagle's algorithm off (true, the default of streams of
// this package, as of package net) or on. TCP only.
func (s *Stream) SetNoDelay(noDelay bool) error {
	return s.fd.setsockoptInt("set", ipprotoTCP, tcpNoDelay, boolInt(noDelay))
}

// SetKeepAlive turns TCP keep-alive probes on or off.
func (s *Stream) SetKeepAlive(on bool) error {
	return s.fd.setsockoptInt("set", solSocket, soKeepAlive, boolInt(on))
}

// SetKeepAlivePeriod sets the idle time before the first keep-alive probe
// and the interval between probes (rounded up to whole seconds). It does
// not turn probes on. Not every system can set it: those give an error
// wrapping ErrNotSupported.
func (s *Stream) SetKeepAlivePeriod(d time.Duration) error {
	if d <= 0 {
		return s.fd.opError("set", errInvalid)
	}
	secs := int((d + time.Second - 1) / time.Second)
	return s.fd.control("set", func(fd driver.FD) error { return setKeepAlivePeriod(fd, secs) })
}

// setsockoptInt sets an integer socket option.
func (fd *netFD) setsockoptInt(op string, level, opt, v int) error {
	return fd.control(op, func(sysfd driver.FD) error {
		return syscallErr("setsockopt", sysSetsockoptInt(sysfd, level, opt, v))
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
