package aio

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/leakcheck"
)

func TestReadBridge1MiBFromPipe(t *testing.T) {
	leakcheck.Check(t)
	pr, pw := io.Pipe()
	p := pattern(mib)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		// Odd-sized writes, so that reads see every kind of boundary.
		for off, n := 0, 1; off < len(p); n = n*5%3000 + 1 {
			end := min(off+n, len(p))
			if _, err := pw.Write(p[off:end]); err != nil {
				return
			}
			off = end
		}
		pw.Close()
	}()
	rb, err := FromReader(pr, 1000)
	if err != nil {
		t.Fatal(err)
	}
	dst := newFake(50, 0.05, 300)
	defer dst.wait()
	res := future.BlockOn[future.Result[int64]](CopyBuffer(dst, rb, make([]byte, 700)))
	wg.Wait()
	if cerr := rb.Close(); cerr != nil {
		t.Fatal(cerr)
	}
	if res.Err != nil || res.Value != mib || !bytes.Equal(dst.written(), p) {
		t.Fatalf("Copy from the bridge = %v, %v; sink differs: %v", res.Value, res.Err, !bytes.Equal(dst.written(), p))
	}
	if r := future.BlockOn[future.Result[int]](Read(rb, make([]byte, 1))); r.Err != net.ErrClosed {
		t.Fatalf("read after Close: %v, want net.ErrClosed", r.Err)
	}
	if rb.Close() != nil {
		t.Fatal("second Close failed")
	}
}

func TestReadBridgeDroppedReadKeepsBytes(t *testing.T) {
	leakcheck.Check(t)
	pr, pw := io.Pipe()
	rb, _ := FromReader(pr, 16)
	defer rb.Close()
	var a, b counter
	f := Read(rb, make([]byte, 8))
	if pollOnce[future.Result[int]](f, future.NewWaker(&a)).IsReady() {
		t.Fatal("read of an empty pipe is ready")
	}
	// A second reader is refused while the first waits.
	if v, _ := pollOnce[future.Result[int]](Read(rb, make([]byte, 8)), future.NewWaker(&b)).Value(); v.Err != ErrBusy {
		t.Fatalf("second reader: %v, want ErrBusy", v.Err)
	}
	// Dropped while the goroutine's Read is in flight: the bytes it gets are
	// kept for the next reader.
	f.Drop()
	if _, err := pw.Write([]byte("in flight")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 9)
	if r := future.BlockOn[future.Result[int]](ReadFull(rb, buf)); r.Err != nil || string(buf) != "in flight" {
		t.Fatalf("read after the drop: %q, %v", buf, r.Err)
	}
	if a.count() != 0 {
		t.Fatal("the dropped read was woken")
	}
}

func TestReadBridgeCloseDuringRead(t *testing.T) {
	leakcheck.Check(t)
	pr, _ := io.Pipe()
	rb, _ := FromReader(pr, 0)
	var a counter
	f := Read(rb, make([]byte, 8))
	if pollOnce[future.Result[int]](f, future.NewWaker(&a)).IsReady() {
		t.Fatal("read of an empty pipe is ready")
	}
	// Close closes the pipe, which cuts the blocked Read short, and waits
	// for the goroutine; the pending read is woken and fails.
	if err := rb.Close(); err != nil {
		t.Fatal(err)
	}
	if a.count() == 0 {
		t.Fatal("Close did not wake the pending read")
	}
	if v, _ := pollOnce[future.Result[int]](f, future.NewWaker(&a)).Value(); v.Err != net.ErrClosed {
		t.Fatalf("pending read after Close: %v, want net.ErrClosed", v.Err)
	}
}

func TestReadBridgeErrorsAfterData(t *testing.T) {
	leakcheck.Check(t)
	boom := errors.New("boom")
	// DataErrReader returns the last bytes together with the error: the
	// bridge gives them first, then the error, for good.
	r := iotest.DataErrReader(io.MultiReader(bytes.NewReader([]byte("abc")), iotest.ErrReader(boom)))
	rb, _ := FromReader(r, 2)
	defer rb.Close()
	got, err := readAllErr(rb, 5)
	if !errors.Is(err, boom) || string(got) != "abc" {
		t.Fatalf("read %q, %v; want abc then boom", got, err)
	}
	if v := future.BlockOn[future.Result[int]](Read(rb, make([]byte, 1))); v.Err != boom {
		t.Fatalf("read after the failure: %v, want boom again", v.Err)
	}
	if _, err := FromReader(r, -1); err != ErrNegativeSize {
		t.Fatalf("FromReader(-1): %v", err)
	}
	if _, err := FromWriter(io.Discard, -1); err != ErrNegativeSize {
		t.Fatalf("FromWriter(-1): %v", err)
	}
}

func TestWriteBridge1MiBWithFlush(t *testing.T) {
	leakcheck.Check(t)
	var out bytes.Buffer
	bw := bufio.NewWriterSize(&out, 1000)
	wb, err := FromWriter(bw, 128)
	if err != nil {
		t.Fatal(err)
	}
	p := pattern(mib)
	src := newFake(51, 0.05, 500)
	defer src.wait()
	src.feed(p)
	src.end(io.EOF)
	// Copy flushes its Flusher destination at the end: the bufio.Writer
	// beneath is flushed too.
	res := future.BlockOn[future.Result[int64]](CopyBuffer(wb, src, make([]byte, 300)))
	if res.Err != nil || res.Value != mib {
		t.Fatalf("Copy into the bridge = %v, %v", res.Value, res.Err)
	}
	if err := wb.Close(); err != nil {
		t.Fatal(err)
	}
	// Close waited for the goroutine: out is safe to read here.
	if !bytes.Equal(out.Bytes(), p) {
		t.Fatalf("the io.Writer got %d bytes, or they differ", out.Len())
	}
	if r := future.BlockOn[future.Result[int]](Write(wb, []byte("x"))); r.Err != net.ErrClosed {
		t.Fatalf("write after Close: %v", r.Err)
	}
	if r := future.BlockOn[future.Result[struct{}]](Flush(wb)); r.Err != net.ErrClosed {
		t.Fatalf("flush after Close: %v", r.Err)
	}
}

// failAfter takes n bytes, then fails.
type failAfter struct {
	n   int
	got []byte
	err error
}

func (f *failAfter) Write(p []byte) (int, error) {
	k := min(len(p), f.n-len(f.got))
	f.got = append(f.got, p[:k]...)
	if k < len(p) {
		return k, f.err
	}
	return k, nil
}

func TestWriteBridgeFailureKeepsBytes(t *testing.T) {
	leakcheck.Check(t)
	boom := errors.New("boom")
	fw := &failAfter{n: 10, err: boom}
	wb, _ := FromWriter(fw, 8)
	res := future.BlockOn[future.Result[int]](WriteAll(wb, []byte("0123456789abcdef")))
	if res.Err != boom {
		// The failure may show only on the flush, if every write was
		// accepted before the goroutine met it.
		if res.Err != nil {
			t.Fatalf("WriteAll: %v", res.Err)
		}
		if r := future.BlockOn[future.Result[struct{}]](Flush(wb)); r.Err != boom {
			t.Fatalf("Flush after the failure: %v, want boom", r.Err)
		}
	}
	if err := wb.Close(); err != nil {
		t.Fatal(err)
	}
	// The io.Writer got a prefix; Unwritten holds the accepted rest of the
	// failed buffer: together they are an unbroken prefix of the data.
	got := string(fw.got) + string(wb.Unwritten())
	if string(fw.got) != "0123456789" || got != "0123456789abcdef"[:len(got)] || len(wb.Unwritten()) == 0 {
		t.Fatalf("the writer got %q, unwritten %q", fw.got, wb.Unwritten())
	}
}

func TestWriteBridgeCloseDuringWrite(t *testing.T) {
	leakcheck.Check(t)
	pr, pw := io.Pipe()
	defer pr.Close()
	wb, _ := FromWriter(pw, 0)
	var a counter
	// Accepted at once, written behind; nobody reads the pipe, so the
	// goroutine's Write blocks and the flush waits.
	if v, _ := pollOnce[future.Result[int]](Write(wb, []byte("stuck")), future.NewWaker(&a)).Value(); v.Err != nil || v.Value != 5 {
		t.Fatalf("write = %v, %v", v.Value, v.Err)
	}
	fl := Flush(wb)
	if pollOnce[future.Result[struct{}]](fl, future.NewWaker(&a)).IsReady() {
		t.Fatal("flush of a blocked write is ready")
	}
	if err := wb.Close(); err != nil {
		t.Fatal(err)
	}
	if v, _ := pollOnce[future.Result[struct{}]](fl, future.NewWaker(&a)).Value(); v.Err != net.ErrClosed {
		t.Fatalf("pending flush after Close: %v, want net.ErrClosed", v.Err)
	}
}

// emptyReads returns (0, nil) a number of times before each read it passes
// on: io.Reader allows that, meaning that nothing happened.
type emptyReads struct {
	r     io.Reader
	empty int // (0, nil) answers before each read passed on
	left  int
}

func (e *emptyReads) Read(p []byte) (int, error) {
	if e.left > 0 {
		e.left--
		return 0, nil
	}
	e.left = e.empty
	return e.r.Read(p)
}

// Reads of the io.Reader that return (0, nil) are retried, as bufio does;
// only a reader that keeps doing so fails with io.ErrNoProgress.
func TestReadBridgeEmptyReads(t *testing.T) {
	leakcheck.Check(t)
	rb, _ := FromReader(&emptyReads{r: bytes.NewReader([]byte("abc")), empty: 3, left: 3}, 16)
	defer rb.Close()
	buf := make([]byte, 8)
	if r := future.BlockOn[future.Result[int]](Read(rb, buf)); r.Err != nil || string(buf[:r.Value]) != "abc" {
		t.Fatalf("read through empty reads = %q, %v; want abc", buf[:r.Value], r.Err)
	}
	if r := future.BlockOn[future.Result[int]](Read(rb, buf)); r.Err != io.EOF {
		t.Fatalf("read at the end = %d, %v; want io.EOF", r.Value, r.Err)
	}

	stuck, _ := FromReader(&emptyReads{left: 1 << 30}, 16)
	defer stuck.Close()
	if r := future.BlockOn[future.Result[int]](Read(stuck, buf)); r.Err != io.ErrNoProgress {
		t.Fatalf("read of a reader that never progresses = %d, %v; want io.ErrNoProgress", r.Value, r.Err)
	}
}
