package socket

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/libasync/libasync/aio"
	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/executor"
	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/leakcheck"
)

// TestEchoOnRuntime runs TCP servers and clients as tasks of the
// work-stealing Runtime on every driver: the sockets take the Runtime's
// reactor from the Context as they do a Local's, and their tasks move
// between workers.
func TestEchoOnRuntime(t *testing.T) {
	for _, d := range driver.Names() {
		t.Run(d, func(t *testing.T) {
			leakcheck.Check(t)
			rt, err := executor.NewRuntime(executor.WithDriver(d), executor.WithWorkers(2))
			if err != nil {
				t.Fatal(err)
			}
			defer rt.Close()
			const conns, rounds = 16, 20
			body := future.Async(func(a *future.Awaiter) error {
				lr := future.Await(a, Listen("127.0.0.1:0"))
				if lr.Err != nil {
					return lr.Err
				}
				l := lr.Value
				defer l.Close()
				var echoes, clients []*executor.JoinHandle[error]
				for i := range conns {
					h, err := executor.Spawn(rt, future.Async(func(a *future.Awaiter) error {
						return echoClient(a, l.Addr().String(), i, rounds)
					}))
					if err != nil {
						return err
					}
					clients = append(clients, h)
				}
				for range conns {
					r := future.Await(a, l.Accept())
					if r.Err != nil {
						return r.Err
					}
					s := r.Value
					h, err := executor.Spawn(rt, future.Async(func(a *future.Awaiter) error {
						defer s.Close()
						return future.Await(a, aio.Copy(s, s)).Err
					}))
					if err != nil {
						return err
					}
					echoes = append(echoes, h)
				}
				for _, h := range append(clients, echoes...) {
					if r := future.Await(a, h); r.Err != nil || r.Value != nil {
						return fmt.Errorf("task: %v %v", r.Err, r.Value)
					}
				}
				return nil
			})
			if err, berr := executor.BlockOn(rt, body); berr != nil || err != nil {
				t.Fatalf("echo on Runtime over %s: %v %v", d, berr, err)
			}
			if st := rt.Stats(); st.TasksCompleted < 2*conns {
				t.Fatalf("stats %+v: want %d tasks completed", st, 2*conns)
			}
		})
	}
}

// echoClient connects, sends rounds messages, checks each echo, and closes.
func echoClient(a *future.Awaiter, addr string, id, rounds int) error {
	r := future.Await(a, Connect(addr))
	if r.Err != nil {
		return r.Err
	}
	s := r.Value
	defer s.Close()
	for i := range rounds {
		msg := []byte(fmt.Sprintf("client %d round %d", id, i))
		if w := future.Await(a, aio.WriteAll(s, msg)); w.Err != nil {
			return w.Err
		}
		got := make([]byte, len(msg))
		if rd := future.Await(a, aio.ReadFull(s, got)); rd.Err != nil {
			return rd.Err
		}
		if !bytes.Equal(got, msg) {
			return fmt.Errorf("echo %q, want %q", got, msg)
		}
	}
	if err := s.ShutdownWrite(); err != nil {
		return err
	}
	var one [1]byte
	if rd := future.Await(a, aio.ReadFull(s, one[:])); rd.Err != io.EOF && rd.Err != io.ErrUnexpectedEOF {
		return fmt.Errorf("after the last echo: %v, want the end of the stream", rd.Err)
	}
	return nil
}
