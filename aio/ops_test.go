package aio

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/leakcheck"
)

const mib = 1 << 20

func TestReadWritePartialAndEOF(t *testing.T) {
	leakcheck.Check(t)
	s := newFake(1, 0.3, 7)
	defer s.wait()
	data := pattern(5000)
	s.feed(data)
	s.end(io.EOF)
	if got := readAll(t, s, 13); !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, want the %d fed", len(got), len(data))
	}
	// The end is sticky, and an empty read is ready at once.
	if res := future.BlockOn[future.Result[int]](Read(s, make([]byte, 4))); res.Err != io.EOF || res.Value != 0 {
		t.Fatalf("read after EOF = %v, %v; want 0, io.EOF", res.Value, res.Err)
	}
	if res := future.BlockOn[future.Result[int]](Read(s, nil)); res.Err != nil || res.Value != 0 {
		t.Fatalf("empty read = %v, %v; want 0, nil", res.Value, res.Err)
	}
	res := future.BlockOn[future.Result[int]](Write(s, data))
	if res.Err != nil || res.Value < 1 || res.Value > 7 {
		t.Fatalf("write = %v, %v; want 1..7 bytes", res.Value, res.Err)
	}
	if !bytes.Equal(s.written(), data[:res.Value]) {
		t.Fatal("the sink does not hold what the write reported")
	}
}

func TestReadFullAndWriteAll1MiB(t *testing.T) {
	leakcheck.Check(t)
	data := pattern(mib)
	s := newFake(2, 0.05, 1000)
	defer s.wait()
	w := future.BlockOn[future.Result[int]](WriteAll(s, data))
	if w.Err != nil || w.Value != mib {
		t.Fatalf("WriteAll = %v, %v", w.Value, w.Err)
	}
	if !bytes.Equal(s.written(), data) {
		t.Fatal("WriteAll: the sink differs from the data")
	}
	s.feed(data)
	s.end(io.EOF)
	got := make([]byte, mib)
	for off := 0; off < mib; off += 4096 {
		r := future.BlockOn[future.Result[int]](ReadFull(s, got[off:off+4096]))
		if r.Err != nil || r.Value != 4096 {
			t.Fatalf("ReadFull at %d = %v, %v", off, r.Value, r.Err)
		}
	}
	if !bytes.Equal(got, data) {
		t.Fatal("ReadFull: bytes differ")
	}
	if r := future.BlockOn[future.Result[int]](ReadFull(s, got[:10])); r.Err != io.EOF || r.Value != 0 {
		t.Fatalf("ReadFull at the end = %v, %v; want 0, io.EOF", r.Value, r.Err)
	}
}

func TestReadFullUnexpectedEOFAndErrors(t *testing.T) {
	leakcheck.Check(t)
	s := newFake(3, 0.3, 3)
	defer s.wait()
	s.feed([]byte("hello"))
	s.end(io.EOF)
	buf := make([]byte, 10)
	r := future.BlockOn[future.Result[int]](ReadFull(s, buf))
	if r.Err != io.ErrUnexpectedEOF || r.Value != 5 || string(buf[:5]) != "hello" {
		t.Fatalf("ReadFull = %v, %v, %q; want 5, ErrUnexpectedEOF, hello", r.Value, r.Err, buf[:r.Value])
	}

	boom := errors.New("boom")
	s2 := newFake(4, 0.3, 3)
	defer s2.wait()
	s2.feed([]byte("abcd"))
	s2.end(boom)
	r = future.BlockOn[future.Result[int]](ReadFull(s2, buf))
	if r.Err != boom || r.Value != 4 {
		t.Fatalf("ReadFull over a failing stream = %v, %v; want 4, boom", r.Value, r.Err)
	}

	s3 := newFake(5, 0, 4)
	s3.setRoom(6)
	wa := WriteAll(s3, []byte("0123456789"))
	var c counter
	if p := pollOnce[future.Result[int]](wa, future.NewWaker(&c)); p.IsReady() {
		t.Fatal("WriteAll into a full sink is ready")
	}
	if wa.N() != 6 {
		t.Fatalf("WriteAll.N = %d, want 6 accepted before the sink filled", wa.N())
	}
	s3.failWrites(boom)
	s3.setRoom(-1)
	if c.count() == 0 {
		t.Fatal("the pending WriteAll was not woken")
	}
	res, _ := pollOnce[future.Result[int]](wa, future.NewWaker(&c)).Value()
	if res.Err != boom || res.Value != 6 {
		t.Fatalf("WriteAll after the failure = %v, %v; want 6, boom", res.Value, res.Err)
	}
}

// A writer that accepts nothing and reports no error is a broken writer;
// WriteAll reports io.ErrShortWrite instead of spinning.
type zeroWriter struct{}

func (zeroWriter) PollWrite(*future.Context, []byte) pollN { return readyN(0) }

// A reader that returns nothing and no error is broken too.
type zeroReader struct{}

func (zeroReader) PollRead(*future.Context, []byte) pollN { return readyN(0) }

func TestBrokenPeers(t *testing.T) {
	leakcheck.Check(t)
	if r := future.BlockOn[future.Result[int]](WriteAll(zeroWriter{}, []byte("x"))); r.Err != io.ErrShortWrite {
		t.Fatalf("WriteAll into a zero writer: %v, want io.ErrShortWrite", r.Err)
	}
	if r := future.BlockOn[future.Result[int]](ReadFull(zeroReader{}, make([]byte, 3))); r.Err != io.ErrNoProgress {
		t.Fatalf("ReadFull from a zero reader: %v, want io.ErrNoProgress", r.Err)
	}
	if r := future.BlockOn[future.Result[int64]](Copy(newFake(0, 0, 0), zeroReader{})); r.Err != io.ErrNoProgress {
		t.Fatalf("Copy from a zero reader: %v, want io.ErrNoProgress", r.Err)
	}
	if r := future.BlockOn[future.Result[struct{}]](CloseWrite(zeroWriter{})); r.Err != ErrNotSupported {
		t.Fatalf("CloseWrite on a plain writer: %v, want ErrNotSupported", r.Err)
	}
	if r := future.BlockOn[future.Result[struct{}]](Flush(zeroWriter{})); r.Err != nil {
		t.Fatalf("Flush on a writer that buffers nothing: %v", r.Err)
	}
}

func TestDroppedReadLosesNothing(t *testing.T) {
	leakcheck.Check(t)
	s := newFake(6, 0, 0)
	var a, b counter
	f := Read(s, make([]byte, 8))
	if p := pollOnce[future.Result[int]](f, future.NewWaker(&a)); p.IsReady() {
		t.Fatal("read of an empty stream is ready")
	}
	// While it is pending, a second reader is refused.
	if v, _ := pollOnce[future.Result[int]](Read(s, make([]byte, 8)), future.NewWaker(&b)).Value(); v.Err != ErrBusy {
		t.Fatalf("second reader got %v, want ErrBusy", v.Err)
	}
	f.Drop()
	s.feed([]byte("kept"))
	if a.count() != 0 {
		t.Fatal("a dropped read was woken")
	}
	// The next reader, with another waker, gets every byte.
	buf := make([]byte, 8)
	res := future.BlockOn[future.Result[int]](ReadFull(s, buf[:4]))
	if res.Err != nil || string(buf[:4]) != "kept" {
		t.Fatalf("read after the drop = %q, %v; want kept", buf[:res.Value], res.Err)
	}
}

func TestRepollWithNewWakerIsNotBusy(t *testing.T) {
	leakcheck.Check(t)
	s := newFake(7, 0, 0)
	var a, b counter
	f := ReadFull(s, make([]byte, 2))
	if pollOnce[future.Result[int]](f, future.NewWaker(&a)).IsReady() {
		t.Fatal("ready on an empty stream")
	}
	// The same future, moved to another task, withdraws its old read first.
	if pollOnce[future.Result[int]](f, future.NewWaker(&b)).IsReady() {
		t.Fatal("ready on an empty stream")
	}
	s.feed([]byte("x"))
	if a.count() != 0 || b.count() != 1 {
		t.Fatalf("wakes: old waker %d, new waker %d; want 0 and 1", a.count(), b.count())
	}
	s.feed([]byte("y"))
	res, ok := pollOnce[future.Result[int]](f, future.NewWaker(&b)).Value()
	if !ok || res.Err != nil || res.Value != 2 {
		t.Fatalf("ReadFull = %v, %v, %v", ok, res.Value, res.Err)
	}
}

func TestCopy1MiBThroughSmallBuffers(t *testing.T) {
	leakcheck.Check(t)
	data := pattern(mib)
	src := newFake(8, 0.05, 300)
	dst := newFake(9, 0.05, 200)
	defer src.wait()
	defer dst.wait()
	src.feed(data)
	src.end(io.EOF)
	res := future.BlockOn[future.Result[int64]](CopyBuffer(dst, src, make([]byte, 512)))
	if res.Err != nil || res.Value != mib {
		t.Fatalf("Copy = %v, %v; want %d, nil", res.Value, res.Err, mib)
	}
	if !bytes.Equal(dst.written(), data) {
		t.Fatal("Copy: destination differs")
	}
	if dst.flushes == 0 {
		t.Fatal("Copy did not flush its Flusher destination at the end")
	}
}

func TestCopyErrors(t *testing.T) {
	leakcheck.Check(t)
	boom := errors.New("boom")
	src := newFake(10, 0.3, 5)
	dst := newFake(11, 0.3, 5)
	defer src.wait()
	defer dst.wait()
	src.feed([]byte("0123456789"))
	src.end(boom)
	res := future.BlockOn[future.Result[int64]](Copy(dst, src))
	if res.Err != boom || res.Value != 10 || string(dst.written()) != "0123456789" {
		t.Fatalf("Copy from a failing source = %v, %v, %q", res.Value, res.Err, dst.written())
	}

	src2 := newFake(12, 0, 0)
	src2.feed([]byte("abc"))
	dst2 := newFake(13, 0, 0)
	dst2.failWrites(boom)
	c := Copy(dst2, src2)
	res = future.BlockOn[future.Result[int64]](c)
	if res.Err != boom || res.Value != 0 || string(c.Unwritten()) != "abc" {
		t.Fatalf("Copy into a failing sink = %v, %v, unwritten %q", res.Value, res.Err, c.Unwritten())
	}
}

func TestCopyDroppedWhilePending(t *testing.T) {
	leakcheck.Check(t)
	src := newFake(14, 0, 0)
	dst := newFake(15, 0, 0)
	dst.setRoom(2)
	src.feed([]byte("abcdef"))
	var a counter
	c := Copy(dst, src)
	if pollOnce[future.Result[int64]](c, future.NewWaker(&a)).IsReady() {
		t.Fatal("Copy into a full sink is ready")
	}
	if c.N() != 2 || string(dst.written()) != "ab" {
		t.Fatalf("after one poll N = %d, sink %q; want 2, ab", c.N(), dst.written())
	}
	c.Drop()
	// Both sides are free for others, and nothing was lost: what the copy
	// held is in Unwritten, the rest still in the source.
	dst.setRoom(-1)
	rest := append([]byte(nil), c.Unwritten()...)
	src.end(io.EOF)
	rest = append(rest, readAll(t, src, 3)...)
	if r := future.BlockOn[future.Result[int]](WriteAll(dst, rest)); r.Err != nil {
		t.Fatalf("write after the dropped copy: %v", r.Err)
	}
	if string(dst.written()) != "abcdef" {
		t.Fatalf("sink = %q", dst.written())
	}
}
