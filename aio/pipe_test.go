package aio

import (
	"bytes"
	"io"
	"net"
	"testing"

	"github.com/libasync/libasync/executor"
	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/leakcheck"
)

func TestPipeBasics(t *testing.T) {
	leakcheck.Check(t)
	if _, _, err := Pipe(-1); err != ErrNegativeSize {
		t.Fatalf("Pipe(-1): %v", err)
	}
	if _, _, err := Duplex(-1); err != ErrNegativeSize {
		t.Fatalf("Duplex(-1): %v", err)
	}
	pr, pw, err := Pipe(4)
	if err != nil {
		t.Fatal(err)
	}
	var a, b counter
	// A full pipe makes the writer wait; a read wakes it.
	if v, _ := pollOnce[future.Result[int]](Write(pw, []byte("abcdef")), future.NewWaker(&a)).Value(); v.Value != 4 {
		t.Fatalf("first write accepted %d, want 4", v.Value)
	}
	wf := Write(pw, []byte("ef"))
	if pollOnce[future.Result[int]](wf, future.NewWaker(&a)).IsReady() {
		t.Fatal("write into a full pipe is ready")
	}
	if v, _ := pollOnce[future.Result[int]](Write(pw, []byte("x")), future.NewWaker(&b)).Value(); v.Err != ErrBusy {
		t.Fatalf("second writer: %v, want ErrBusy", v.Err)
	}
	buf := make([]byte, 3)
	if v := future.BlockOn[future.Result[int]](Read(pr, buf)); v.Value != 3 || string(buf) != "abc" {
		t.Fatalf("read %q", buf[:v.Value])
	}
	if a.count() != 1 {
		t.Fatalf("the waiting writer was woken %d times, want 1", a.count())
	}
	// The ring wraps: "d" is at the end, "ef" goes to the start.
	if v, _ := pollOnce[future.Result[int]](wf, future.NewWaker(&a)).Value(); v.Value != 2 {
		t.Fatalf("write after the read accepted %d, want 2", v.Value)
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	if v := future.BlockOn[future.Result[int]](Write(pw, []byte("x"))); v.Err != net.ErrClosed {
		t.Fatalf("write after the writer closed: %v", v.Err)
	}
	got, err := readAllErr(pr, 2)
	if err != nil || string(got) != "def" {
		t.Fatalf("read to the end: %q, %v", got, err)
	}
	pr.Close()
	if v := future.BlockOn[future.Result[int]](Read(pr, buf)); v.Err != net.ErrClosed {
		t.Fatalf("read after the reader closed: %v", v.Err)
	}

	// The reader's Close fails a waiting writer with io.ErrClosedPipe.
	pr2, pw2, _ := Pipe(1)
	future.BlockOn[future.Result[int]](Write(pw2, []byte("z")))
	wf2 := Write(pw2, []byte("y"))
	if pollOnce[future.Result[int]](wf2, future.NewWaker(&b)).IsReady() {
		t.Fatal("write into a full pipe is ready")
	}
	pr2.Close()
	if v, _ := pollOnce[future.Result[int]](wf2, future.NewWaker(&b)).Value(); v.Err != io.ErrClosedPipe {
		t.Fatalf("write after the reader closed: %v, want io.ErrClosedPipe", v.Err)
	}
}

// TestDuplexEchoOnLocal runs an echo server over split halves of one end of
// a Duplex, and a client that writes 1 MiB and reads it back at the same
// time: three tasks on a Local, through 97-byte pipes.
func TestDuplexEchoOnLocal(t *testing.T) {
	leakcheck.Check(t)
	l, err := executor.NewLocal()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	client, server, err := Duplex(97)
	if err != nil {
		t.Fatal(err)
	}
	sr, sw := Split(server)
	echo, err := executor.Spawn(l, future.Future[future.Result[int64]](CopyBuffer(sw, sr, make([]byte, 61))))
	if err != nil {
		t.Fatal(err)
	}
	data := pattern(mib)
	writer, err := executor.Spawn(l, future.Async(func(a *future.Awaiter) error {
		if r := future.Await[future.Result[int]](a, WriteAll(client, data)); r.Err != nil {
			return r.Err
		}
		return future.Await[future.Result[struct{}]](a, CloseWrite(client)).Err
	}))
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, mib)
	res, err := executor.BlockOn[future.Result[int]](l, ReadFull(client, got))
	if err != nil || res.Err != nil || !bytes.Equal(got, data) {
		t.Fatalf("echoed back: %v, %v; bytes differ: %v", err, res.Err, !bytes.Equal(got, data))
	}
	if w, err := executor.BlockOn[future.Result[error]](l, writer); err != nil || w.Err != nil || w.Value != nil {
		t.Fatalf("writer task: %v, %v, %v", err, w.Err, w.Value)
	}
	// The client closed its write side: the echo reads io.EOF and ends.
	if e, err := executor.BlockOn[future.Result[future.Result[int64]]](l, echo); err != nil || e.Err != nil || e.Value.Err != nil || e.Value.Value != mib {
		t.Fatalf("echo task: %v, %v, %+v", err, e.Err, e.Value)
	}
	// And the server closes: the client reads io.EOF.
	if err := server.Close(); err != nil {
		t.Fatal(err)
	}
	if r, err := executor.BlockOn[future.Result[int]](l, Read(client, got[:1])); err != nil || r.Err != io.EOF {
		t.Fatalf("client read after the server closed: %v, %v", err, r.Err)
	}
}

// TestPipeAcrossGoroutines moves 1 MiB through a 13-byte pipe whose ends are
// polled from two goroutines, each waking the other.
func TestPipeAcrossGoroutines(t *testing.T) {
	leakcheck.Check(t)
	pr, pw, _ := Pipe(13)
	data := pattern(mib)
	done := make(chan future.Result[int], 1)
	go func() {
		r := future.BlockOn[future.Result[int]](WriteAll(pw, data))
		pw.Close()
		done <- r
	}()
	got, err := readAllErr(pr, 17)
	if w := <-done; w.Err != nil || w.Value != mib {
		t.Fatalf("writer: %v, %v", w.Value, w.Err)
	}
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("reader: %d bytes, %v; or they differ", len(got), err)
	}
}
