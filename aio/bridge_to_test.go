package aio

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/libasync/libasync/executor"
	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/leakcheck"
)

// runLocal starts a Local driven by a goroutine of the test, and stops both
// when the test ends.
func runLocal(t *testing.T) *executor.Local {
	t.Helper()
	l, err := executor.NewLocal()
	if err != nil {
		t.Fatal(err)
	}
	stop, wait := future.NewOneshot[struct{}]()
	done := make(chan error, 1)
	go func() {
		_, err := executor.BlockOn[future.Result[struct{}]](l, wait)
		done <- err
	}()
	t.Cleanup(func() {
		_ = stop.Send(struct{}{})
		if err := <-done; err != nil && !errors.Is(err, future.ErrClosed) {
			t.Errorf("the Local's loop: %v", err)
		}
		if err := l.Close(); err != nil {
			t.Errorf("Local.Close: %v", err)
		}
	})
	return l
}

// until waits for cond, checking it often; it fails the test after a
// generous bound (the condition is a state, not a timing).
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(100 * time.Microsecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s", what)
		}
	}
}

func readPending(s *fakeStream) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rslot.taken
}

func writePending(s *fakeStream) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.wslot.taken
}

func TestIOReaderAndIOWriter1MiB(t *testing.T) {
	leakcheck.Check(t)
	l := runLocal(t)
	p := pattern(mib)
	src := newFake(60, 0.05, 3000)
	defer src.wait()
	src.feed(p)
	src.end(io.EOF)
	dst := newFake(61, 0.05, 2000)
	defer dst.wait()
	ir := NewIOReader(l, src)
	iw := NewIOWriter(l, dst)
	// Goroutine code: io.CopyBuffer between the two views, small buffer.
	n, err := io.CopyBuffer(struct{ io.Writer }{iw}, struct{ io.Reader }{ir}, make([]byte, 4000))
	if err != nil || n != mib {
		t.Fatalf("io.Copy through the views = %d, %v", n, err)
	}
	if err := iw.Flush(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dst.written(), p) || dst.flushes == 0 {
		t.Fatalf("the stream got %d bytes, or they differ; %d flushes", len(dst.written()), dst.flushes)
	}
	if n, err := ir.Read(nil); n != 0 || err != nil {
		t.Fatalf("empty Read = %d, %v", n, err)
	}
	if n, err := iw.Write(nil); n != 0 || err != nil {
		t.Fatalf("empty Write = %d, %v", n, err)
	}
	ir.Close()
	iw.Close()
	if _, err := ir.Read(make([]byte, 1)); err != net.ErrClosed {
		t.Fatalf("Read after Close: %v", err)
	}
	if _, err := iw.Write([]byte("x")); err != net.ErrClosed {
		t.Fatalf("Write after Close: %v", err)
	}
}

func TestIOReaderCloseDuringReadLosesNothing(t *testing.T) {
	leakcheck.Check(t)
	l := runLocal(t)
	s := newFake(62, 0, 0)
	ir := NewIOReader(l, s)
	type out struct {
		n   int
		err error
	}
	got := make(chan out, 1)
	go func() {
		n, err := ir.Read(make([]byte, 8))
		got <- out{n, err}
	}()
	until(t, "the Read to wait on the stream", func() bool { return readPending(s) })
	// A second Read while the first waits is refused.
	if _, err := ir.Read(make([]byte, 8)); err != ErrBusy {
		t.Fatalf("concurrent Read: %v, want ErrBusy", err)
	}
	ir.Close()
	if o := <-got; o.err != net.ErrClosed || o.n != 0 {
		t.Fatalf("Read cut short = %d, %v; want 0, net.ErrClosed", o.n, o.err)
	}
	// The aborted task withdrew its read, and consumed nothing.
	if readPending(s) {
		t.Fatal("the aborted read is still pending on the stream")
	}
	s.feed([]byte("intact"))
	buf := make([]byte, 6)
	if r := future.BlockOn[future.Result[int]](ReadFull(s, buf)); r.Err != nil || string(buf) != "intact" {
		t.Fatalf("read after the view closed: %q, %v", buf, r.Err)
	}
}

func TestIOWriterCloseDuringWrite(t *testing.T) {
	leakcheck.Check(t)
	l := runLocal(t)
	s := newFake(63, 0, 1)
	s.setRoom(2)
	iw := NewIOWriter(l, s)
	type out struct {
		n   int
		err error
	}
	got := make(chan out, 1)
	go func() {
		n, err := iw.Write([]byte("abcdef"))
		got <- out{n, err}
	}()
	until(t, "the Write to wait on the stream", func() bool { return writePending(s) })
	iw.Close()
	if o := <-got; o.err != net.ErrClosed || o.n != 2 {
		t.Fatalf("Write cut short = %d, %v; want 2, net.ErrClosed", o.n, o.err)
	}
	if string(s.written()) != "ab" || writePending(s) {
		t.Fatalf("sink %q; write still pending: %v", s.written(), writePending(s))
	}
}

func TestIOReaderExecutorShutdown(t *testing.T) {
	leakcheck.Check(t)
	l, err := executor.NewLocal()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Drive the Local until it is closed.
		_, _ = executor.BlockOn[struct{}](l, future.PollFn(func(*future.Context) future.Poll[struct{}] {
			return future.Pending[struct{}]()
		}))
	}()
	s := newFake(64, 0, 0)
	ir := NewIOReader(l, s)
	got := make(chan error, 1)
	go func() {
		_, err := ir.Read(make([]byte, 4))
		got <- err
	}()
	until(t, "the Read to wait on the stream", func() bool { return readPending(s) })
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	<-done
	if err := <-got; !errors.Is(err, future.ErrClosed) {
		t.Fatalf("Read during shutdown: %v, want future.ErrClosed", err)
	}
	if _, err := ir.Read(make([]byte, 4)); !errors.Is(err, future.ErrClosed) {
		t.Fatalf("Read after shutdown: %v, want future.ErrClosed", err)
	}
}
