package socket

import (
	"testing"

	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/executor"
	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/leakcheck"
)

// forEachDriver runs fn on a fresh Local executor of every driver linked in
// (driver.Names).
func forEachDriver(t *testing.T, fn func(t *testing.T, ex *executor.Local)) {
	t.Helper()
	for _, d := range driver.Names() {
		t.Run(d, func(t *testing.T) {
			leakcheck.Check(t)
			ex, err := executor.NewLocal(executor.WithDriver(d))
			if err != nil {
				t.Fatalf("NewLocal(%s): %v", d, err)
			}
			t.Cleanup(func() {
				if err := ex.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			fn(t, ex)
		})
	}
}

// run runs body as an Async future on ex until it returns.
func run(t *testing.T, ex *executor.Local, body func(a *future.Awaiter)) {
	t.Helper()
	f := future.Async(func(a *future.Awaiter) struct{} { body(a); return struct{}{} })
	if _, err := executor.BlockOn(ex, f); err != nil {
		t.Fatalf("BlockOn: %v", err)
	}
}

// spawn starts body as a task of ex; await its JoinHandle to join it.
func spawn[T any](t *testing.T, ex *executor.Local, body func(a *future.Awaiter) T) *executor.JoinHandle[T] {
	t.Helper()
	h, err := executor.Spawn(ex, future.Async(body))
	if err != nil {
		t.Fatalf("Spawn: %v", err)
	}
	return h
}

// must awaits f and fails the test on its error.
func must[T any](t *testing.T, a *future.Awaiter, f future.Future[future.Result[T]]) T {
	t.Helper()
	r := future.Await(a, f)
	if r.Err != nil {
		t.Fatalf("%T: %v", f, r.Err)
	}
	return r.Value
}

// pair returns a listener and the two ends of one TCP connection to it on
// addr (an IP literal with port 0), all closed when the test ends.
func pair(t *testing.T, a *future.Awaiter, ex *executor.Local, addr string) (l *Listener, client, server *Stream) {
	t.Helper()
	l = must(t, a, Listen(addr))
	acc := spawn(t, ex, func(a *future.Awaiter) future.Result[*Stream] { return future.Await(a, l.Accept()) })
	client = must(t, a, Connect(l.Addr().String()))
	r := must[future.Result[*Stream]](t, a, acc)
	if r.Err != nil {
		t.Fatalf("Accept: %v", r.Err)
	}
	// Closed before the executor (cleanups run last-in first-out); a test
	// that closed one already gets net.ErrClosed here, which is fine.
	t.Cleanup(func() {
		l.Close()
		client.Close()
		r.Value.Close()
	})
	return l, client, r.Value
}
