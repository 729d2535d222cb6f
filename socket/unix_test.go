//go:build unix

package socket

import (
	"errors"
	"io"
	"net"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/libasync/libasync/aio"
	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/executor"
	"github.com/libasync/libasync/future"
)

// TestUnixSockets echoes over a Unix domain stream socket.
func TestUnixSockets(t *testing.T) {
	forEachDriver(t, func(t *testing.T, ex *executor.Local) {
		path := filepath.Join(t.TempDir(), "echo.sock")
		run(t, ex, func(a *future.Awaiter) {
			if r := future.Await(a, ConnectUnix(path)); !errors.Is(r.Err, syscall.ENOENT) {
				t.Fatalf("connect to a missing socket: %v", r.Err)
			}
			l := must(t, a, ListenUnix(path))
			defer l.Close()
			if l.Addr().(*net.UnixAddr).Name != path {
				t.Fatalf("listener address %v", l.Addr())
			}
			srv := spawn(t, ex, func(a *future.Awaiter) error {
				r := future.Await(a, l.Accept())
				if r.Err != nil {
					return r.Err
				}
				defer r.Value.Close()
				return echoLoop(a, r.Value, 5)
			})
			c := must(t, a, ConnectUnix(path))
			defer c.Close()
			if c.RemoteAddr().String() != path {
				t.Fatalf("remote address %v", c.RemoteAddr())
			}
			msg := []byte("over a unix domain socket")
			must(t, a, aio.WriteAll(c, msg))
			c.ShutdownWrite()
			buf := make([]byte, 100)
			r := future.Await(a, aio.ReadFull(c, buf))
			if r.Err != io.ErrUnexpectedEOF || string(buf[:r.Value]) != string(msg) {
				t.Fatalf("echo %q, %v", buf[:r.Value], r.Err)
			}
			if err := must[error](t, a, srv); err != nil {
				t.Fatal(err)
			}
			// A pending Accept ends with net.ErrClosed at Close.
			acc := spawn(t, ex, func(a *future.Awaiter) error { return future.Await(a, l.Accept()).Err })
			future.Await(a, executor.YieldNow())
			l.Close()
			if err := must[error](t, a, acc); !errors.Is(err, net.ErrClosed) {
				t.Fatalf("Accept at Close: %v", err)
			}
		})
	})
}

// pipe returns the two ends of a pipe as FDs, closed when the test ends.
func pipe(t *testing.T, a *future.Awaiter) (r, w *FD) {
	t.Helper()
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		t.Fatal(err)
	}
	r = must(t, a, NewFD(p[0]))
	w = must(t, a, NewFD(p[1]))
	if r.Fd() != p[0] || w.Fd() != p[1] {
		t.Fatalf("Fd %d and %d, want %v", r.Fd(), w.Fd(), p)
	}
	t.Cleanup(func() {
		r.Close()
		w.Close()
	})
	return r, w
}

// TestFDPipe puts both ends of a pipe on the reactor.
func TestFDPipe(t *testing.T) {
	forEachDriver(t, func(t *testing.T, ex *executor.Local) {
		run(t, ex, func(a *future.Awaiter) {
			r, w := pipe(t, a)
			// A reader waits, then a writer fills the pipe past its buffer.
			data := make([]byte, 300000)
			for i := range data {
				data[i] = byte(i * 7)
			}
			writer := spawn(t, ex, func(a *future.Awaiter) error {
				defer w.Close()
				return future.Await(a, aio.WriteAll(w, data)).Err
			})
			got := make([]byte, len(data)+1)
			n := future.Await(a, aio.ReadFull(r, got))
			if n.Err != io.ErrUnexpectedEOF || n.Value != len(data) || string(got[:n.Value]) != string(data) {
				t.Fatalf("read %d bytes (%v) of %d", n.Value, n.Err, len(data))
			}
			if err := must[error](t, a, writer); err != nil {
				t.Fatal(err)
			}
		})
	})
}

// TestFDReadiness waits on an eventfd-like pipe with the readiness futures.
func TestFDReadiness(t *testing.T) {
	forEachDriver(t, func(t *testing.T, ex *executor.Local) {
		run(t, ex, func(a *future.Awaiter) {
			r, w := pipe(t, a)
			must(t, a, w.Writable())
			waiter := spawn(t, ex, func(a *future.Awaiter) string {
				buf := make([]byte, 10)
				for {
					rd := must(t, a, r.Readable())
					n, err := unix.Read(r.Fd(), buf)
					if err == unix.EAGAIN {
						if err := r.ClearReady(rd); err != nil {
							return err.Error()
						}
						continue
					}
					return string(buf[:n])
				}
			})
			future.Await(a, executor.YieldNow())
			if _, err := unix.Write(w.Fd(), []byte("ready")); err != nil {
				t.Fatal(err)
			}
			if got := must[string](t, a, waiter); got != "ready" {
				t.Fatalf("got %q", got)
			}
			// Drained to EAGAIN and cleared, the pipe is not readable; a
			// dropped Readable leaves the direction free.
			rd := must(t, a, r.Readable())
			if _, err := unix.Read(r.Fd(), make([]byte, 1)); err != unix.EAGAIN {
				t.Fatalf("read of an empty pipe: %v", err)
			}
			if err := r.ClearReady(rd); err != nil {
				t.Fatal(err)
			}
			if res := future.Await(a, executor.Timeout(0, r.Readable())); !errors.Is(res.Err, executor.ErrTimeout) {
				t.Fatalf("Readable on an empty pipe: %v", res.Err)
			}
			pending := spawn(t, ex, func(a *future.Awaiter) error { return future.Await(a, r.Readable()).Err })
			future.Await(a, executor.YieldNow())
			r.Close()
			if err := must[error](t, a, pending); !errors.Is(err, net.ErrClosed) {
				t.Fatalf("Readable at Close: %v", err)
			}
		})
	})
}

// TestUDPRefused: a connected UDP socket learns from ICMP that nobody
// listens, and reports it once as ECONNREFUSED; the socket stays usable.
func TestUDPRefused(t *testing.T) {
	forEachDriver(t, func(t *testing.T, ex *executor.Local) {
		run(t, ex, func(a *future.Awaiter) {
			gone := must(t, a, Bind("127.0.0.1:0"))
			to := gone.LocalAddr().(*net.UDPAddr)
			gone.Close()
			s := must(t, a, Bind("127.0.0.1:0"))
			defer s.Close()
			if err := s.Connect(to); err != nil {
				t.Fatal(err)
			}
			must(t, a, s.Send([]byte("anyone?")))
			buf := make([]byte, 8)
			if r := future.Await(a, s.Recv(buf)); !errors.Is(r.Err, syscall.ECONNREFUSED) {
				t.Fatalf("Recv after sending to a closed port: %+v, %v; want ECONNREFUSED", r.Value, r.Err)
			}
			// The error is reported once: the next receive waits, here in
			// the BlockOn future itself, whose polls must leave the
			// executor free to run its timers and I/O.
			if r := future.Await(a, executor.Timeout(20*time.Millisecond, s.Recv(buf))); !errors.Is(r.Err, executor.ErrTimeout) {
				t.Fatalf("second Recv: %v, want a timeout", r.Err)
			}
			// ... a datagram arriving then is received ...
			peer := must(t, a, Bind(to.String()))
			defer peer.Close()
			must(t, a, peer.SendTo([]byte("late"), s.LocalAddr().(*net.UDPAddr)))
			if d := must(t, a, s.Recv(buf)); string(buf[:d.N]) != "late" {
				t.Fatalf("Recv after the error: %q", buf[:d.N])
			}
			// ... and a receive waiting so is ended by Close.
			waiting := spawn(t, ex, func(a *future.Awaiter) error { return future.Await(a, s.Recv(buf)).Err })
			future.Await(a, executor.YieldNow())
			peer.Close()
			s.Close()
			if err := must[error](t, a, waiting); !errors.Is(err, net.ErrClosed) {
				t.Fatalf("Recv waiting at Close: %v", err)
			}
		})
	})
}

// TestWatchFD watches a pipe the test keeps: PollLevel answers as a
// level-triggered poller (ready while bytes wait, pending once the caller
// read them), and Close leaves the descriptor open and in blocking mode.
func TestWatchFD(t *testing.T) {
	forEachDriver(t, func(t *testing.T, ex *executor.Local) {
		var p [2]int
		if err := unix.Pipe(p[:]); err != nil {
			t.Fatal(err)
		}
		defer unix.Close(p[0])
		defer unix.Close(p[1])
		run(t, ex, func(a *future.Awaiter) {
			fd := must(t, a, WatchFD(p[0]))
			level := func() future.Future[future.Result[driver.Readiness]] {
				return future.PollFn(func(cx *future.Context) future.Poll[future.Result[driver.Readiness]] {
					return fd.PollLevel(cx, driver.Read)
				})
			}
			if res := future.Await(a, executor.Timeout(0, level())); !errors.Is(res.Err, executor.ErrTimeout) {
				t.Fatalf("PollLevel of an empty pipe: %v", res.Err)
			}
			if _, err := unix.Write(p[1], []byte("ab")); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 1)
			for range 2 {
				if r := must(t, a, level()); r&driver.Readable == 0 {
					t.Fatalf("readiness %v", r)
				}
				if n, err := unix.Read(p[0], buf); n != 1 || err != nil {
					t.Fatalf("read: %d %v", n, err)
				}
			}
			if res := future.Await(a, executor.Timeout(0, level())); !errors.Is(res.Err, executor.ErrTimeout) {
				t.Fatalf("PollLevel after the caller drained the pipe: %v", res.Err)
			}
			if err := fd.Close(); err != nil {
				t.Fatal(err)
			}
		})
		fl, err := unix.FcntlInt(uintptr(p[0]), unix.F_GETFL, 0)
		if err != nil || fl&unix.O_NONBLOCK != 0 {
			t.Fatalf("after Close: flags %#x, %v (want open and blocking)", fl, err)
		}
	})
}
