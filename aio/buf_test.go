package aio

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/leakcheck"
)

func mustBufReader(t *testing.T, r Reader, size int) *BufReader {
	t.Helper()
	b, err := NewBufReader(r, size)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustBufWriter(t *testing.T, w Writer, size int) *BufWriter {
	t.Helper()
	b, err := NewBufWriter(w, size)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBufSizes(t *testing.T) {
	leakcheck.Check(t)
	if _, err := NewBufReader(zeroReader{}, -1); err != ErrNegativeSize {
		t.Fatalf("NewBufReader(-1): %v", err)
	}
	if _, err := NewBufWriter(zeroWriter{}, -1); err != ErrNegativeSize {
		t.Fatalf("NewBufWriter(-1): %v", err)
	}
	if b := mustBufReader(t, zeroReader{}, 0); b.Size() != DefaultBufSize {
		t.Fatalf("default reader size %d", b.Size())
	}
	if b := mustBufWriter(t, zeroWriter{}, 0); b.Size() != DefaultBufSize || b.Available() != DefaultBufSize {
		t.Fatalf("default writer size %d", b.Size())
	}
}

func TestBufReaderLines(t *testing.T) {
	leakcheck.Check(t)
	s := newFake(20, 0.3, 3)
	defer s.wait()
	s.feed([]byte("one\ntwo\r\n\nthree-is-long\nlast"))
	s.end(io.EOF)
	b := mustBufReader(t, s, 8)
	var got []string
	for {
		res := future.BlockOn[future.Result[[]byte]](b.ReadLine())
		if res.Err == ErrLineTooLong {
			// The long line stays buffered: take it in slices.
			for {
				sl := future.BlockOn[future.Result[[]byte]](b.ReadSlice('\n'))
				if sl.Err != nil {
					t.Fatal(sl.Err)
				}
				got = append(got, "slice:"+string(sl.Value))
				if bytes.HasSuffix(sl.Value, []byte("\n")) {
					break
				}
			}
			continue
		}
		if res.Err == io.EOF {
			break
		}
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		got = append(got, string(res.Value))
	}
	want := "one|two||slice:three-is|slice:-long\n|last"
	if strings.Join(got, "|") != want {
		t.Fatalf("lines %q, want %q", strings.Join(got, "|"), want)
	}
}

func TestBufReaderReadUntilAndRead1MiB(t *testing.T) {
	leakcheck.Check(t)
	// Records of varying length separated by 0xff, through a 16-byte buffer.
	var data []byte
	var records [][]byte
	p := pattern(mib)
	for off, n := 0, 1; off < len(p)/4; n = n%97 + 1 {
		rec := bytes.ReplaceAll(p[off:min(off+n, len(p))], []byte{0xff}, []byte{0})
		records = append(records, rec)
		data = append(append(data, rec...), 0xff)
		off += n
	}
	s := newFake(21, 0.05, 50)
	defer s.wait()
	s.feed(data)
	s.end(io.EOF)
	b := mustBufReader(t, s, 16)
	var dst []byte
	for i, rec := range records {
		res := future.BlockOn[future.Result[[]byte]](b.ReadUntil(0xff, dst[:0]))
		if res.Err != nil {
			t.Fatalf("record %d: %v", i, res.Err)
		}
		if !bytes.Equal(res.Value, append(rec, 0xff)) {
			t.Fatalf("record %d: %d bytes, want %d", i, len(res.Value), len(rec)+1)
		}
		dst = res.Value
	}
	if res := future.BlockOn[future.Result[[]byte]](b.ReadUntil(0xff, nil)); res.Err != io.EOF {
		t.Fatalf("ReadUntil at the end: %v, want io.EOF", res.Err)
	}

	// As a plain Reader: 1 MiB through a 32-byte buffer, with reads smaller
	// than the buffer (served from it) and larger (passed through).
	s2 := newFake(22, 0.05, 100)
	defer s2.wait()
	s2.feed(p)
	s2.end(io.EOF)
	b2 := mustBufReader(t, s2, 32)
	if got := readAll(t, b2, 24); !bytes.Equal(got, p[:len(got)]) || len(got) != mib {
		t.Fatalf("BufReader as a Reader: %d bytes, or they differ", len(got))
	}
	s3 := newFake(23, 0.05, 100)
	defer s3.wait()
	s3.feed(p)
	s3.end(io.EOF)
	b2.Reset(s3)
	if got := readAll(t, b2, 64); !bytes.Equal(got, p) {
		t.Fatalf("BufReader after Reset: %d bytes, or they differ", len(got))
	}
}

func TestBufReaderEndWithoutDelimiterAndErrors(t *testing.T) {
	leakcheck.Check(t)
	s := newFake(24, 0, 0)
	s.feed([]byte("tail"))
	s.end(io.EOF)
	b := mustBufReader(t, s, 16)
	r := future.BlockOn[future.Result[[]byte]](b.ReadUntil('\n', []byte("pre:")))
	if r.Err != nil || string(r.Value) != "pre:tail" {
		t.Fatalf("ReadUntil at the end = %q, %v", r.Value, r.Err)
	}
	if r := future.BlockOn[future.Result[[]byte]](b.ReadSlice('\n')); r.Err != io.EOF {
		t.Fatalf("ReadSlice after the end = %q, %v; want io.EOF", r.Value, r.Err)
	}

	boom := errors.New("boom")
	s2 := newFake(25, 0, 0)
	s2.feed([]byte("ab"))
	s2.end(boom)
	b2 := mustBufReader(t, s2, 16)
	if r := future.BlockOn[future.Result[[]byte]](b2.ReadSlice('\n')); r.Err != nil || string(r.Value) != "ab" {
		t.Fatalf("ReadSlice before the failure = %q, %v; want ab", r.Value, r.Err)
	}
	if r := future.BlockOn[future.Result[[]byte]](b2.ReadSlice('\n')); r.Err != boom {
		t.Fatalf("ReadSlice at the failure = %v, want boom", r.Err)
	}

	// PollFill, Consume and Discard.
	s3 := newFake(26, 0, 0)
	s3.feed([]byte("0123456789"))
	b3 := mustBufReader(t, s3, 4)
	var c counter
	v, _ := b3.PollFill(future.NewContext(future.NewWaker(&c), nil)).Value()
	if v.Err != nil || len(v.Value) == 0 || !strings.HasPrefix("0123", string(v.Value)) {
		t.Fatalf("PollFill = %q, %v", v.Value, v.Err)
	}
	b3.Consume(1)
	if b3.Discard(100) != len(v.Value)-1 || b3.Buffered() != 0 {
		t.Fatal("Discard did not drop exactly the buffered bytes")
	}
}

func TestBufReaderDroppedLineLosesNothing(t *testing.T) {
	leakcheck.Check(t)
	s := newFake(27, 0, 0)
	b := mustBufReader(t, s, 32)
	s.feed([]byte("hel"))
	var a counter
	f := b.ReadLine()
	if pollOnce[future.Result[[]byte]](f, future.NewWaker(&a)).IsReady() {
		t.Fatal("ReadLine of a partial line is ready")
	}
	f.Drop()
	s.feed([]byte("lo\n"))
	if r := future.BlockOn[future.Result[[]byte]](b.ReadLine()); r.Err != nil || string(r.Value) != "hello" {
		t.Fatalf("line after the drop = %q, %v", r.Value, r.Err)
	}
}

func TestBufWriter1MiBAndFlush(t *testing.T) {
	leakcheck.Check(t)
	s := newFake(30, 0.05, 100)
	defer s.wait()
	bw := mustBufWriter(t, s, 64)
	p := pattern(mib)
	// Mixed sizes: small writes are gathered, large ones pass through.
	for off, n := 0, 1; off < len(p); n = n*3%200 + 1 {
		end := min(off+n, len(p))
		r := future.BlockOn[future.Result[int]](WriteAll(bw, p[off:end]))
		if r.Err != nil || r.Value != end-off {
			t.Fatalf("WriteAll at %d = %v, %v", off, r.Value, r.Err)
		}
		off = end
	}
	if r := future.BlockOn[future.Result[struct{}]](Flush(bw)); r.Err != nil {
		t.Fatal(r.Err)
	}
	if bw.Buffered() != 0 || !bytes.Equal(s.written(), p) {
		t.Fatalf("after Flush: %d buffered, sink of %d bytes, or they differ", bw.Buffered(), len(s.written()))
	}
	if r := future.BlockOn[future.Result[struct{}]](CloseWrite(bw)); r.Err != nil || !s.closedW {
		t.Fatalf("CloseWrite: %v, closed %v", r.Err, s.closedW)
	}
}

func TestBufWriterFailureKeepsBytes(t *testing.T) {
	leakcheck.Check(t)
	boom := errors.New("boom")
	s := newFake(31, 0, 0)
	s.setRoom(3)
	bw := mustBufWriter(t, s, 8)
	if r := future.BlockOn[future.Result[int]](WriteAll(bw, []byte("abcdefgh"))); r.Err != nil || r.Value != 8 {
		t.Fatalf("buffered write = %v, %v", r.Value, r.Err)
	}
	var c counter
	if pollOnce[future.Result[struct{}]](Flush(bw), future.NewWaker(&c)).IsReady() {
		t.Fatal("Flush into a full sink is ready")
	}
	s.failWrites(boom)
	s.setRoom(-1)
	if r := future.BlockOn[future.Result[struct{}]](Flush(bw)); r.Err != boom {
		t.Fatalf("Flush after the failure: %v, want boom", r.Err)
	}
	// Nothing silently lost: the sink got a prefix, Unwritten holds the rest.
	if got := string(s.written()) + string(bw.Unwritten()); got != "abcdefgh" || len(s.written()) == 0 {
		t.Fatalf("sink %q + unwritten %q, want abcdefgh split", s.written(), bw.Unwritten())
	}
	if r := future.BlockOn[future.Result[int]](Write(bw, []byte("x"))); r.Err != boom || bw.Err() != boom {
		t.Fatalf("write after the failure: %v, want boom kept", r.Err)
	}
	if r := future.BlockOn[future.Result[struct{}]](CloseWrite(bw)); r.Err != boom {
		t.Fatalf("CloseWrite after the failure: %v, want boom", r.Err)
	}
	bw.Reset(zeroWriter{})
	if bw.Err() != nil || bw.Buffered() != 0 {
		t.Fatal("Reset kept the failure or the bytes")
	}
	if r := future.BlockOn[future.Result[struct{}]](CloseWrite(bw)); r.Err != ErrNotSupported {
		t.Fatalf("CloseWrite over a plain writer: %v", r.Err)
	}
}

func TestBufferedCopy1MiB(t *testing.T) {
	leakcheck.Check(t)
	p := pattern(mib)
	src := newFake(32, 0.05, 700)
	dst := newFake(33, 0.05, 300)
	defer src.wait()
	defer dst.wait()
	src.feed(p)
	src.end(io.EOF)
	br := mustBufReader(t, src, 100)
	bw := mustBufWriter(t, dst, 77)
	r := future.BlockOn[future.Result[int64]](CopyBuffer(bw, br, make([]byte, 33)))
	if r.Err != nil || r.Value != mib || bw.Buffered() != 0 || !bytes.Equal(dst.written(), p) {
		t.Fatalf("buffered Copy = %v, %v; %d left buffered; sink differs: %v", r.Value, r.Err, bw.Buffered(), !bytes.Equal(dst.written(), p))
	}
}

func TestBufReaderDroppedDelimiterReads(t *testing.T) {
	leakcheck.Check(t)
	s := newFake(28, 0, 0)
	b := mustBufReader(t, s, 4)
	var a counter
	// ReadUntil crosses buffers: what it consumed before the drop is in
	// Bytes, the rest comes to the next read.
	s.feed([]byte("abcdef"))
	f := b.ReadUntil('\n', nil)
	if pollOnce[future.Result[[]byte]](f, future.NewWaker(&a)).IsReady() {
		t.Fatal("ReadUntil without a delimiter is ready")
	}
	f.Drop()
	kept := string(f.Bytes())
	s.feed([]byte("g\n"))
	r := future.BlockOn[future.Result[[]byte]](b.ReadUntil('\n', nil))
	if r.Err != nil || kept+string(r.Value) != "abcdefg\n" {
		t.Fatalf("kept %q, then read %q, %v; want abcdefg\\n in all", kept, r.Value, r.Err)
	}

	// ReadSlice looks at the buffer without consuming until it can answer.
	s.feed([]byte("xy"))
	sf := b.ReadSlice(';')
	if pollOnce[future.Result[[]byte]](sf, future.NewWaker(&a)).IsReady() {
		t.Fatal("ReadSlice without a delimiter is ready")
	}
	sf.Drop()
	if b.Buffered() != 2 {
		t.Fatalf("a dropped ReadSlice left %d bytes buffered, want 2", b.Buffered())
	}
	s.feed([]byte(";"))
	if r := future.BlockOn[future.Result[[]byte]](b.ReadSlice(';')); r.Err != nil || string(r.Value) != "xy;" {
		t.Fatalf("ReadSlice after the drop = %q, %v", r.Value, r.Err)
	}
}

// A stream that fails part way through a line gives ReadLine the failure,
// not the fragment as if it were a line; the fragment stays buffered.
func TestBufReaderLineCutByFailure(t *testing.T) {
	leakcheck.Check(t)
	s := newFake(21, 0.3, 3)
	defer s.wait()
	reset := errors.New("connection reset")
	s.feed([]byte("one\ntwo"))
	s.end(reset)
	b := mustBufReader(t, s, 16)
	if r := future.BlockOn[future.Result[[]byte]](b.ReadLine()); r.Err != nil || string(r.Value) != "one" {
		t.Fatalf("first ReadLine = %q, %v; want one", r.Value, r.Err)
	}
	r := future.BlockOn[future.Result[[]byte]](b.ReadLine())
	if r.Err != reset {
		t.Fatalf("ReadLine of a line cut by a failure = %q, %v; want the failure", r.Value, r.Err)
	}
	if b.Buffered() != len("two") {
		t.Fatalf("%d bytes buffered after the failure, want the fragment's %d", b.Buffered(), len("two"))
	}
}

// After CloseWrite a BufWriter refuses writes at once, as the CloseWriter
// contract says, instead of buffering bytes that can never be delivered.
func TestBufWriterWriteAfterCloseWrite(t *testing.T) {
	leakcheck.Check(t)
	pr, pw, err := Pipe(64)
	if err != nil {
		t.Fatal(err)
	}
	bw := mustBufWriter(t, pw, 16)
	if r := future.BlockOn[future.Result[int]](WriteAll(bw, []byte("last"))); r.Err != nil {
		t.Fatal(r.Err)
	}
	if r := future.BlockOn[future.Result[struct{}]](CloseWrite(bw)); r.Err != nil {
		t.Fatalf("CloseWrite: %v", r.Err)
	}
	if r := future.BlockOn[future.Result[int]](Write(bw, []byte("x"))); r.Err != net.ErrClosed {
		t.Fatalf("write after CloseWrite = %d, %v; want net.ErrClosed", r.Value, r.Err)
	}
	if bw.Buffered() != 0 {
		t.Fatalf("%d bytes buffered after CloseWrite", bw.Buffered())
	}
	buf := make([]byte, 16)
	if r := future.BlockOn[future.Result[int]](ReadFull(pr, buf)); r.Err != io.ErrUnexpectedEOF || string(buf[:r.Value]) != "last" {
		t.Fatalf("the reader got %q, %v; want last, then the end", buf[:r.Value], r.Err)
	}
}
