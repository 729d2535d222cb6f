package socket

import (
	"bytes"
	"errors"
	"net"
	"testing"

	"github.com/libasync/libasync/executor"
	"github.com/libasync/libasync/future"
)

// TestUDP exchanges datagrams, empty ones included, reports truncation,
// and runs the connected Send/Recv.
func TestUDP(t *testing.T) {
	forEachDriver(t, func(t *testing.T, ex *executor.Local) {
		run(t, ex, func(a *future.Awaiter) {
			s1 := must(t, a, Bind("127.0.0.1:0"))
			defer s1.Close()
			s2 := must(t, a, Bind("127.0.0.1:0"))
			defer s2.Close()
			to := s2.LocalAddr().(*net.UDPAddr)
			// A receiver waits first, so the first datagram wakes it.
			recv := spawn(t, ex, func(a *future.Awaiter) future.Result[Datagram] {
				return future.Await(a, s2.RecvFrom(make([]byte, 64)))
			})
			future.Await(a, executor.YieldNow())
			msgs := [][]byte{[]byte("first"), {}, []byte("third, longer than eight")}
			for _, m := range msgs {
				if n := must(t, a, s1.SendTo(m, to)); n != len(m) {
					t.Fatalf("SendTo sent %d of %d", n, len(m))
				}
			}
			d := must[future.Result[Datagram]](t, a, recv)
			if d.Err != nil || d.Value.N != 5 || d.Value.Truncated || d.Value.Addr.String() != s1.LocalAddr().String() {
				t.Fatalf("first datagram: %+v, %v", d.Value, d.Err)
			}
			buf := make([]byte, 8)
			if d := must(t, a, s2.RecvFrom(buf)); d.N != 0 || d.Truncated {
				t.Fatalf("empty datagram received as %+v", d)
			}
			if d := must(t, a, s2.RecvFrom(buf)); d.N != 8 || !d.Truncated || string(buf) != "third, l" {
				t.Fatalf("long datagram received as %+v %q", d, buf)
			}
			// Connected: Send and Recv.
			if err := s1.Connect(to); err != nil {
				t.Fatal(err)
			}
			if err := s2.Connect(s1.LocalAddr().(*net.UDPAddr)); err != nil {
				t.Fatal(err)
			}
			must(t, a, s1.Send([]byte("hello")))
			must(t, a, s1.Send(nil))
			if d := must(t, a, s2.Recv(buf)); d.N != 5 || !bytes.Equal(buf[:5], []byte("hello")) {
				t.Fatalf("Recv: %+v %q", d, buf[:d.N])
			}
			if d := must(t, a, s2.Recv(buf)); d.N != 0 {
				t.Fatalf("empty Recv: %+v", d)
			}
			if s1.RemoteAddr().String() != to.String() {
				t.Fatalf("RemoteAddr %v", s1.RemoteAddr())
			}
			// A dropped receive loses nothing.
			r := future.Await(a, executor.Timeout(0, s2.Recv(buf)))
			if !errors.Is(r.Err, executor.ErrTimeout) {
				t.Fatalf("Recv with nothing sent: %v", r.Err)
			}
			must(t, a, s1.Send([]byte("after")))
			if d := must(t, a, s2.Recv(buf)); string(buf[:d.N]) != "after" {
				t.Fatalf("Recv after a dropped one: %q", buf[:d.N])
			}
			// Close completes a pending receive with net.ErrClosed.
			pending := spawn(t, ex, func(a *future.Awaiter) error { return future.Await(a, s1.Recv(buf)).Err })
			future.Await(a, executor.YieldNow())
			s1.Close()
			if err := must[error](t, a, pending); !errors.Is(err, net.ErrClosed) {
				t.Fatalf("Recv pending at Close: %v", err)
			}
			if err := s2.Connect(nil); err == nil {
				t.Fatal("Connect(nil) succeeded")
			}
			if r := future.Await(a, s2.SendTo([]byte("x"), nil)); r.Err == nil {
				t.Fatal("SendTo(nil) succeeded")
			}
		})
	})
}

// TestUDPv6 exchanges one datagram over ::1.
func TestUDPv6(t *testing.T) {
	forEachDriver(t, func(t *testing.T, ex *executor.Local) {
		run(t, ex, func(a *future.Awaiter) {
			r := future.Await(a, Bind("[::1]:0"))
			if r.Err != nil {
				t.Skipf("::1 unavailable on this machine: %v", r.Err)
			}
			s := r.Value
			defer s.Close()
			must(t, a, s.SendTo([]byte("v6"), s.LocalAddr().(*net.UDPAddr)))
			buf := make([]byte, 4)
			if d := must(t, a, s.RecvFrom(buf)); string(buf[:d.N]) != "v6" || d.Addr.String() != s.LocalAddr().String() {
				t.Fatalf("received %+v %q", d, buf[:d.N])
			}
		})
	})
}
