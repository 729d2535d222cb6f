package socket

import (
	"io"
	"net"
	"testing"

	"github.com/libasync/libasync/aio"
	"github.com/libasync/libasync/executor"
	"github.com/libasync/libasync/future"
)

// BenchmarkRoundTrip is one 64-byte request echoed back over loopback TCP:
// libasync (client and echo server as tasks of one Local, the futures held
// by value and Reset, as state machines hold them) against package net (an
// echo goroutine, the client on the benchmark goroutine). The figure is
// dominated by four system calls and two wake-ups; allocs/op is the point.
func BenchmarkRoundTrip(b *testing.B) {
	b.Run("libasync", func(b *testing.B) {
		ex, err := executor.NewLocal()
		if err != nil {
			b.Fatal(err)
		}
		defer ex.Close()
		body := future.Async(func(a *future.Awaiter) error {
			l := future.Await(a, Listen("127.0.0.1:0"))
			if l.Err != nil {
				return l.Err
			}
			defer l.Value.Close()
			acc, err := executor.Spawn(ex, future.Future[future.Result[*Stream]](l.Value.Accept()))
			if err != nil {
				return err
			}
			c := future.Await(a, Connect(l.Value.Addr().String()))
			if c.Err != nil {
				return c.Err
			}
			defer c.Value.Close()
			s := future.Await(a, acc)
			if s.Err != nil || s.Value.Err != nil {
				return io.ErrUnexpectedEOF
			}
			srv := s.Value.Value
			defer srv.Close()
			echo, err := executor.Spawn(ex, future.Async(func(a *future.Awaiter) error {
				buf := make([]byte, 64)
				var rd aio.ReadFullFuture
				var wr aio.WriteAllFuture
				for {
					rd.Reset(srv, buf)
					if r := future.Await(a, future.Future[future.Result[int]](&rd)); r.Err != nil {
						return nil
					}
					wr.Reset(srv, buf)
					if r := future.Await(a, future.Future[future.Result[int]](&wr)); r.Err != nil {
						return r.Err
					}
				}
			}))
			if err != nil {
				return err
			}
			msg, buf := make([]byte, 64), make([]byte, 64)
			var rd aio.ReadFullFuture
			var wr aio.WriteAllFuture
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				wr.Reset(c.Value, msg)
				if r := future.Await(a, future.Future[future.Result[int]](&wr)); r.Err != nil {
					return r.Err
				}
				rd.Reset(c.Value, buf)
				if r := future.Await(a, future.Future[future.Result[int]](&rd)); r.Err != nil {
					return r.Err
				}
			}
			b.StopTimer()
			c.Value.ShutdownWrite()
			future.Await(a, echo)
			return nil
		})
		if err, berr := executor.BlockOn(ex, body); err != nil || berr != nil {
			b.Fatal(err, berr)
		}
	})
	b.Run("net", func(b *testing.B) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		done := make(chan struct{})
		go func() {
			defer close(done)
			s, err := l.Accept()
			if err != nil {
				return
			}
			defer s.Close()
			buf := make([]byte, 64)
			for {
				if _, err := io.ReadFull(s, buf); err != nil {
					return
				}
				if _, err := s.Write(buf); err != nil {
					return
				}
			}
		}()
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		msg, buf := make([]byte, 64), make([]byte, 64)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if _, err := c.Write(msg); err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(c, buf); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		c.Close()
		<-done
	})
}
