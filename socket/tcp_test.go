package socket

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/libasync/libasync/aio"
	"github.com/libasync/libasync/executor"
	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/leakcheck"
)

// echoLoop copies s to itself through a buffer of size bytes until EOF,
// then shuts the write side down.
func echoLoop(a *future.Awaiter, s *Stream, size int) error {
	buf := make([]byte, size)
	for {
		r := future.Await(a, aio.Read(s, buf))
		if r.Err == io.EOF {
			return s.ShutdownWrite()
		}
		if r.Err != nil {
			return r.Err
		}
		if w := future.Await(a, aio.WriteAll(s, buf[:r.Value])); w.Err != nil {
			return w.Err
		}
	}
}

// TestEcho1MiB sends 1 MiB through an echo server with small buffers, from
// the two halves of a split client stream in two tasks, and checks every
// byte came back in order.
func TestEcho1MiB(t *testing.T) {
	forEachDriver(t, func(t *testing.T, ex *executor.Local) {
		run(t, ex, func(a *future.Awaiter) {
			_, client, server := pair(t, a, ex, "127.0.0.1:0")
			srv := spawn(t, ex, func(a *future.Awaiter) error { return echoLoop(a, server, 61) })
			data := make([]byte, 1<<20)
			for i := range data {
				data[i] = byte(rand.Uint32())
			}
			rh, wh := aio.Split(client)
			writer := spawn(t, ex, func(a *future.Awaiter) error {
				for off := 0; off < len(data); off += 997 {
					end := min(off+997, len(data))
					if r := future.Await(a, aio.WriteAll(wh, data[off:end])); r.Err != nil {
						return r.Err
					}
				}
				return future.Await(a, aio.CloseWrite(wh)).Err
			})
			var got []byte
			buf := make([]byte, 333)
			for {
				r := future.Await(a, aio.Read(rh, buf))
				if r.Err == io.EOF {
					break
				}
				if r.Err != nil {
					t.Fatalf("read: %v", r.Err)
				}
				got = append(got, buf[:r.Value]...)
			}
			if err := must[error](t, a, writer); err != nil {
				t.Fatalf("writer: %v", err)
			}
			if err := must[error](t, a, srv); err != nil {
				t.Fatalf("server: %v", err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("echoed %d bytes, differing from the %d sent", len(got), len(data))
			}
		})
	})
}

// TestManyConnections runs 1,000 connections at once through one echo
// server.
func TestManyConnections(t *testing.T) {
	const conns = 1000
	forEachDriver(t, func(t *testing.T, ex *executor.Local) {
		run(t, ex, func(a *future.Awaiter) {
			l := must(t, a, Listen("127.0.0.1:0"))
			addr := l.Addr().String()
			acceptor := spawn(t, ex, func(a *future.Awaiter) error {
				for range conns {
					r := future.Await(a, l.Accept())
					if r.Err != nil {
						return r.Err
					}
					s := r.Value
					spawn(t, ex, func(a *future.Awaiter) error {
						defer s.Close()
						return echoLoop(a, s, 16)
					}).Detach()
				}
				return nil
			})
			var clients []*executor.JoinHandle[error]
			for i := range conns {
				clients = append(clients, spawn(t, ex, func(a *future.Awaiter) error {
					r := future.Await(a, Connect(addr))
					if r.Err != nil {
						return r.Err
					}
					s := r.Value
					defer s.Close()
					msg := []byte("connection " + string(rune('a'+i%26)) + " says hello")
					if w := future.Await(a, aio.WriteAll(s, msg)); w.Err != nil {
						return w.Err
					}
					if err := s.ShutdownWrite(); err != nil {
						return err
					}
					got := make([]byte, len(msg)+1)
					n := future.Await(a, aio.ReadFull(s, got))
					if !errors.Is(n.Err, io.ErrUnexpectedEOF) || !bytes.Equal(got[:n.Value], msg) {
						return errors.New("wrong echo: " + string(got[:n.Value]))
					}
					return nil
				}))
			}
			for i, c := range clients {
				if err := must[error](t, a, c); err != nil {
					t.Fatalf("client %d: %v", i, err)
				}
			}
			if err := must[error](t, a, acceptor); err != nil {
				t.Fatalf("acceptor: %v", err)
			}
		})
	})
}

func TestConnectRefused(t *testing.T) {
	forEachDriver(t, func(t *testing.T, ex *executor.Local) {
		run(t, ex, func(a *future.Awaiter) {
			l := must(t, a, Listen("127.0.0.1:0"))
			addr := l.Addr().String()
			l.Close()
			r := future.Await(a, Connect(addr))
			if !errors.Is(r.Err, syscall.ECONNREFUSED) {
				t.Fatalf("Connect to a closed port: %v, want ECONNREFUSED", r.Err)
			}
			var op *net.OpError
			if !errors.As(r.Err, &op) || op.Op != "dial" || op.Addr == nil || op.Addr.String() != addr {
				t.Fatalf("error %#v is not a dial *net.OpError", r.Err)
			}
		})
	})
}

// TestReset: the peer closes with unread data (or SO_LINGER 0), which
// resets the connection; the reader sees ECONNRESET.
func TestReset(t *testing.T) {
	forEachDriver(t, func(t *testing.T, ex *executor.Local) {
		run(t, ex, func(a *future.Awaiter) {
			_, client, server := pair(t, a, ex, "127.0.0.1:0")
			if err := setLingerZero(server); err != nil {
				t.Fatal(err)
			}
			server.Close()
			buf := make([]byte, 10)
			r := future.Await(a, aio.Read(client, buf))
			if r.Err == io.EOF && resetSeenAsEOF() {
				t.Skip("this system (Wine) reads a reset connection as EOF")
			}
			if !errors.Is(r.Err, syscall.ECONNRESET) {
				t.Fatalf("read after reset: %v, want ECONNRESET", r.Err)
			}
		})
	})
}

// TestHalfClose: the client shuts its write side; the server reads EOF,
// answers, and the client reads the answer, then EOF. Writing after the
// shutdown fails with net.ErrClosed.
func TestHalfClose(t *testing.T) {
	forEachDriver(t, func(t *testing.T, ex *executor.Local) {
		run(t, ex, func(a *future.Awaiter) {
			_, client, server := pair(t, a, ex, "127.0.0.1:0")
			must(t, a, aio.WriteAll(client, []byte("question")))
			if err := future.Await(a, aio.CloseWrite(client)).Err; err != nil {
				t.Fatal(err)
			}
			if r := future.Await(a, aio.Write(client, []byte("x"))); !errors.Is(r.Err, net.ErrClosed) {
				t.Fatalf("write after shutdown: %v, want net.ErrClosed", r.Err)
			}
			buf := make([]byte, 100)
			r := future.Await(a, aio.ReadFull(server, buf))
			if r.Err != io.ErrUnexpectedEOF || string(buf[:r.Value]) != "question" {
				t.Fatalf("server read %q, %v", buf[:r.Value], r.Err)
			}
			if r := future.Await(a, aio.Read(server, buf)); r.Err != io.EOF {
				t.Fatalf("second read at EOF: %v, want io.EOF", r.Err)
			}
			must(t, a, aio.WriteAll(server, []byte("answer")))
			server.ShutdownWrite()
			r = future.Await(a, aio.ReadFull(client, buf))
			if r.Err != io.ErrUnexpectedEOF || string(buf[:r.Value]) != "answer" {
				t.Fatalf("client read %q, %v", buf[:r.Value], r.Err)
			}
		})
	})
}

// TestCloseDuringPending closes a stream, a listener and a connect from
// another goroutine while a task waits on each; every wait ends with
// net.ErrClosed.
func TestCloseDuringPending(t *testing.T) {
	forEachDriver(t, func(t *testing.T, ex *executor.Local) {
		run(t, ex, func(a *future.Awaiter) {
			l, client, server := pair(t, a, ex, "127.0.0.1:0")
			// A write pends once the kernel's buffers are full.
			big := make([]byte, 1<<16)
			writeBlocked := make(chan struct{})
			writer := spawn(t, ex, func(a *future.Awaiter) error {
				first := true
				for {
					f := aio.Write(server, big)
					r := future.Await(a, future.PollFn(func(cx *future.Context) future.Poll[future.Result[int]] {
						p := f.Poll(cx)
						if p.IsPending() && first {
							first = false
							close(writeBlocked)
						}
						return p
					}))
					if r.Err != nil {
						return r.Err
					}
				}
			})
			// The client never writes: a read of the server pends, beside
			// its write.
			reader := spawn(t, ex, func(a *future.Awaiter) error {
				return future.Await(a, aio.Read(server, make([]byte, 10))).Err
			})
			accepter := spawn(t, ex, func(a *future.Awaiter) error {
				return future.Await(a, l.Accept()).Err
			})
			go func() {
				<-writeBlocked
				// The others are pending by now or soon; Close works either
				// way, and a later start fails with the same error.
				server.Close()
				client.Close()
				l.Close()
			}()
			for name, h := range map[string]*executor.JoinHandle[error]{"write": writer, "read": reader, "accept": accepter} {
				if err := must[error](t, a, h); !errors.Is(err, net.ErrClosed) {
					t.Errorf("pending %s after Close: %v, want net.ErrClosed", name, err)
				}
			}
			if err := client.Close(); !errors.Is(err, net.ErrClosed) {
				t.Errorf("second Close: %v, want net.ErrClosed", err)
			}
		})
	})
}

// TestCloseDuringConnect closes a connect that the peer does not answer:
// a listener whose backlog is full drops the SYN, so the connect pends.
func TestCloseDuringConnect(t *testing.T) {
	forEachDriver(t, func(t *testing.T, ex *executor.Local) {
		addr, stop := fullBacklog(t)
		defer stop()
		run(t, ex, func(a *future.Awaiter) {
			var pending *ConnectFuture
			var done []*Stream
			for range 8 {
				c := Connect(addr)
				r := future.Await(a, executor.Timeout(200*time.Millisecond, future.Future[future.Result[*Stream]](c)))
				if errors.Is(r.Err, executor.ErrTimeout) {
					pending = Connect(addr)
					break
				}
				if r.Err == nil && r.Value.Err == nil {
					done = append(done, r.Value.Value)
				}
			}
			for _, s := range done {
				s.Close()
			}
			if pending == nil {
				t.Skip("every connect completed: the system accepts beyond the backlog")
			}
			h := spawn(t, ex, func(a *future.Awaiter) error { return future.Await(a, pending).Err })
			future.Await(a, executor.Sleep(20*time.Millisecond))
			if err := pending.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := must[error](t, a, h); !errors.Is(err, net.ErrClosed) {
				t.Fatalf("pending connect after Close: %v, want net.ErrClosed", err)
			}
		})
	})
}

// TestDroppedReadKeepsBytes drops read futures while data is in flight and
// checks that the stream stays usable and every byte arrives once.
func TestDroppedReadKeepsBytes(t *testing.T) {
	forEachDriver(t, func(t *testing.T, ex *executor.Local) {
		run(t, ex, func(a *future.Awaiter) {
			_, client, server := pair(t, a, ex, "127.0.0.1:0")
			var sent, got []byte
			buf := make([]byte, 7)
			for i := range 50 {
				// A read that times out (dropped while pending) ...
				r := future.Await(a, executor.Timeout(time.Millisecond, future.Future[future.Result[int]](aio.Read(server, buf))))
				if r.Err == nil {
					got = append(got, buf[:r.Value.Value]...)
				}
				// ... then data in flight, and a read dropped after one
				// poll, before it returned the data.
				msg := []byte{byte(i), byte(i + 1), byte(i + 2)}
				sent = append(sent, msg...)
				must(t, a, aio.WriteAll(client, msg))
				f := aio.Read(server, buf)
				future.Await(a, future.PollFn(func(cx *future.Context) future.Poll[struct{}] {
					if p := f.Poll(cx); p.IsReady() {
						r, _ := p.Value()
						if r.Err != nil {
							t.Errorf("read: %v", r.Err)
						}
						got = append(got, buf[:r.Value]...)
						return future.Ready(struct{}{})
					}
					f.Drop()
					return future.Ready(struct{}{})
				}))
			}
			client.ShutdownWrite()
			for {
				r := future.Await(a, aio.Read(server, buf))
				if r.Err == io.EOF {
					break
				}
				if r.Err != nil {
					t.Fatal(r.Err)
				}
				got = append(got, buf[:r.Value]...)
			}
			if !bytes.Equal(got, sent) {
				t.Fatalf("got %v, sent %v", got, sent)
			}
		})
	})
}

// TestBusy: a second task reading while one waits gets aio.ErrBusy; after
// the first is dropped, a new reader works.
func TestBusy(t *testing.T) {
	forEachDriver(t, func(t *testing.T, ex *executor.Local) {
		run(t, ex, func(a *future.Awaiter) {
			_, client, server := pair(t, a, ex, "127.0.0.1:0")
			first := spawn(t, ex, func(a *future.Awaiter) error {
				return future.Await(a, aio.Read(server, make([]byte, 4))).Err
			})
			future.Await(a, executor.YieldNow())
			r := future.Await(a, aio.Read(server, make([]byte, 4)))
			if !errors.Is(r.Err, aio.ErrBusy) {
				t.Fatalf("second reader: %v, want ErrBusy", r.Err)
			}
			first.Abort()
			future.Await(a, first)
			must(t, a, aio.WriteAll(client, []byte("ping")))
			buf := make([]byte, 4)
			if r := future.Await(a, aio.ReadFull(server, buf)); r.Err != nil || string(buf) != "ping" {
				t.Fatalf("read after the first reader was aborted: %q, %v", buf, r.Err)
			}
		})
	})
}

// TestWrongRuntime polls a stream of one executor from another.
func TestWrongRuntime(t *testing.T) {
	forEachDriver(t, func(t *testing.T, ex *executor.Local) {
		other, err := executor.NewLocal()
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		run(t, ex, func(a *future.Awaiter) {
			_, _, server := pair(t, a, ex, "127.0.0.1:0")
			r, err := executor.BlockOn(other, future.Future[future.Result[int]](aio.Read(server, make([]byte, 4))))
			if err != nil || !errors.Is(r.Err, executor.ErrWrongRuntime) {
				t.Fatalf("read from another runtime: %v, %v; want ErrWrongRuntime", r.Err, err)
			}
		})
	})
}

// TestCopyBetweenStreams copies one connection into another with aio.Copy.
func TestCopyBetweenStreams(t *testing.T) {
	forEachDriver(t, func(t *testing.T, ex *executor.Local) {
		run(t, ex, func(a *future.Awaiter) {
			_, c1, s1 := pair(t, a, ex, "127.0.0.1:0")
			_, c2, s2 := pair(t, a, ex, "127.0.0.1:0")
			data := bytes.Repeat([]byte("libasync "), 50000)
			copier := spawn(t, ex, func(a *future.Awaiter) future.Result[int64] {
				r := future.Await(a, aio.Copy(c2, s1))
				c2.ShutdownWrite()
				return r
			})
			writer := spawn(t, ex, func(a *future.Awaiter) future.Result[int] {
				r := future.Await(a, aio.WriteAll(c1, data))
				c1.ShutdownWrite()
				return r
			})
			var got bytes.Buffer
			buf := make([]byte, 4096)
			for {
				r := future.Await(a, aio.Read(s2, buf))
				if r.Err == io.EOF {
					break
				}
				if r.Err != nil {
					t.Fatal(r.Err)
				}
				got.Write(buf[:r.Value])
			}
			if n := must[future.Result[int64]](t, a, copier); n.Err != nil || n.Value != int64(len(data)) {
				t.Fatalf("Copy: %d, %v", n.Value, n.Err)
			}
			must[future.Result[int]](t, a, writer)
			if !bytes.Equal(got.Bytes(), data) {
				t.Fatalf("copied %d bytes, not the %d sent", got.Len(), len(data))
			}
		})
	})
}

// TestIPv6 echoes over ::1.
func TestIPv6(t *testing.T) {
	forEachDriver(t, func(t *testing.T, ex *executor.Local) {
		run(t, ex, func(a *future.Awaiter) {
			r := future.Await(a, Listen("[::1]:0"))
			if r.Err != nil {
				t.Skipf("::1 unavailable on this machine: %v", r.Err)
			}
			l := r.Value
			if ta, ok := l.Addr().(*net.TCPAddr); !ok || !ta.IP.Equal(net.IPv6loopback) {
				t.Fatalf("listener address %v", l.Addr())
			}
			acc := spawn(t, ex, func(a *future.Awaiter) future.Result[*Stream] { return future.Await(a, l.Accept()) })
			c := must(t, a, Connect(l.Addr().String()))
			defer c.Close()
			s := must[future.Result[*Stream]](t, a, acc)
			if s.Err != nil {
				t.Fatal(s.Err)
			}
			defer s.Value.Close()
			must(t, a, aio.WriteAll(c, []byte("six")))
			buf := make([]byte, 3)
			must(t, a, aio.ReadFull(s.Value, buf))
			if string(buf) != "six" {
				t.Fatalf("read %q", buf)
			}
			if ra := s.Value.RemoteAddr().(*net.TCPAddr); !ra.IP.Equal(net.IPv6loopback) {
				t.Fatalf("remote address %v", ra)
			}
		})
	})
}

// TestHostName resolves "localhost" off the executor and connects.
func TestHostName(t *testing.T) {
	forEachDriver(t, func(t *testing.T, ex *executor.Local) {
		run(t, ex, func(a *future.Awaiter) {
			l := must(t, a, Listen("localhost:0"))
			port := l.Addr().(*net.TCPAddr).Port
			acc := spawn(t, ex, func(a *future.Awaiter) future.Result[*Stream] { return future.Await(a, l.Accept()) })
			c := must(t, a, Connect(net.JoinHostPort("localhost", strconv.Itoa(port))))
			defer c.Close()
			s := must[future.Result[*Stream]](t, a, acc)
			if s.Err != nil {
				t.Fatal(s.Err)
			}
			s.Value.Close()
			if r := future.Await(a, Connect("no-such-host.invalid:80")); r.Err == nil {
				r.Value.Close()
				t.Fatal("connect to an unresolvable name succeeded")
			}
			if r := future.Await(a, Connect("127.0.0.1")); r.Err == nil {
				r.Value.Close()
				t.Fatal("connect to an address without a port succeeded")
			}
		})
	})
}

// TestOptionsAndAddrs sets the options and reads the addresses back.
func TestOptionsAndAddrs(t *testing.T) {
	forEachDriver(t, func(t *testing.T, ex *executor.Local) {
		run(t, ex, func(a *future.Awaiter) {
			l, client, server := pair(t, a, ex, "127.0.0.1:0")
			for _, err := range []error{
				client.SetNoDelay(false), client.SetNoDelay(true),
				client.SetKeepAlive(true), client.SetKeepAlivePeriod(30 * time.Second),
			} {
				if err != nil && !errors.Is(err, ErrNotSupported) {
					t.Errorf("option: %v", err)
				}
			}
			if err := client.SetKeepAlivePeriod(0); err == nil {
				t.Error("SetKeepAlivePeriod(0) succeeded")
			}
			if client.LocalAddr().String() != server.RemoteAddr().String() ||
				client.RemoteAddr().String() != server.LocalAddr().String() ||
				server.LocalAddr().String() != l.Addr().String() {
				t.Errorf("addresses: client %v -> %v, server %v -> %v, listener %v",
					client.LocalAddr(), client.RemoteAddr(), server.LocalAddr(), server.RemoteAddr(), l.Addr())
			}
			client.Close()
			if err := client.SetNoDelay(true); !errors.Is(err, net.ErrClosed) {
				t.Errorf("option after Close: %v", err)
			}
			if r := future.Await(a, aio.Read(client, make([]byte, 1))); !errors.Is(r.Err, net.ErrClosed) {
				t.Errorf("read after Close: %v", r.Err)
			}
		})
	})
}

// TestNoRuntime: constructors polled outside an executor fail cleanly.
func TestNoRuntime(t *testing.T) {
	leakcheck.Check(t)
	r := future.BlockOn(future.Future[future.Result[*Listener]](Listen("127.0.0.1:0")))
	if !errors.Is(r.Err, future.ErrNoRuntime) {
		t.Fatalf("Listen outside a runtime: %v", r.Err)
	}
	if r := future.BlockOn(future.Future[future.Result[*Listener]](Listen("bad address"))); r.Err == nil {
		t.Fatal("Listen on a bad address succeeded")
	}
}

// TestCloseRacesIO closes streams from another goroutine while tasks read
// and write them: every operation ends with success or net.ErrClosed (or
// the peer's reset), never EBADF, which would mean a system call ran on a
// closed (or reused) descriptor.
func TestCloseRacesIO(t *testing.T) {
	forEachDriver(t, func(t *testing.T, ex *executor.Local) {
		run(t, ex, func(a *future.Awaiter) {
			for i := range 50 {
				_, client, server := pair(t, a, ex, "127.0.0.1:0")
				loop := func(s *Stream, write bool) *executor.JoinHandle[error] {
					return spawn(t, ex, func(a *future.Awaiter) error {
						buf := make([]byte, 512)
						for {
							var r future.Result[int]
							if write {
								r = future.Await(a, aio.Write(s, buf))
							} else {
								r = future.Await(a, aio.Read(s, buf))
							}
							if r.Err != nil {
								return r.Err
							}
						}
					})
				}
				hs := []*executor.JoinHandle[error]{loop(client, true), loop(server, false), loop(server, true), loop(client, false)}
				closed := make(chan struct{})
				go func() {
					defer close(closed)
					for range i % 7 {
						runtime.Gosched()
					}
					client.Close()
					server.Close()
				}()
				for _, h := range hs {
					err := must[error](t, a, h)
					if !errors.Is(err, net.ErrClosed) && !errors.Is(err, syscall.ECONNRESET) &&
						!errors.Is(err, syscall.EPIPE) && err != io.EOF {
						t.Fatalf("round %d: %v", i, err)
					}
				}
				<-closed
			}
		})
	})
}
