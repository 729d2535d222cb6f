package aio

import (
	"bufio"
	"io"
	"testing"

	"github.com/libasync/libasync/future"
)

// readyStream is always ready: reads yield up to len(p) bytes of a fixed
// block (io.EOF after limit bytes, when limit > 0), writes accept everything.
// It is both an aio stream and an io stream, so that each benchmark pits the
// futures against the plain io call on the same memory.
type readyStream struct {
	block []byte
	off   int
	limit int
	read  int
}

func (s *readyStream) next(p []byte) (int, error) {
	if s.limit > 0 && s.read >= s.limit {
		return 0, io.EOF
	}
	if s.limit > 0 {
		p = p[:min(len(p), s.limit-s.read)]
	}
	n := copy(p, s.block[s.off:])
	s.off = (s.off + n) % len(s.block)
	s.read += n
	return n, nil
}

func (s *readyStream) PollRead(_ *future.Context, p []byte) pollN {
	n, err := s.next(p)
	if err != nil {
		return failN(err)
	}
	return readyN(n)
}

func (s *readyStream) Read(p []byte) (int, error)                  { return s.next(p) }
func (s *readyStream) PollWrite(_ *future.Context, p []byte) pollN { return readyN(len(p)) }
func (s *readyStream) Write(p []byte) (int, error)                 { return len(p), nil }
func (s *readyStream) PollFlush(*future.Context) pollUnit          { return readyUnit() }
func (s *readyStream) rewind()                                     { s.off, s.read = 0, 0 }
func newReady(limit int) *readyStream                              { return &readyStream{block: pattern(64 << 10), limit: limit} }
func benchContext() *future.Context                                { return future.NewContext(future.NoopWaker(), nil) }
func mustReady[T any](b *testing.B, p future.Poll[future.Result[T]]) {
	if v, ok := p.Value(); !ok || v.Err != nil {
		b.Fatalf("not ready: %v %v", ok, v.Err)
	}
}

// Read of 64 bytes: a ReadFuture held by value and Reset (the zero-alloc
// path), the pointer constructor, and the peer io.Reader.Read.
func BenchmarkRead64(b *testing.B) {
	buf := make([]byte, 64)
	b.Run("aio-reset", func(b *testing.B) {
		s, cx := newReady(0), benchContext()
		var f ReadFuture
		b.ReportAllocs()
		for b.Loop() {
			f.Reset(s, buf)
			mustReady(b, f.Poll(cx))
		}
	})
	b.Run("aio-new", func(b *testing.B) {
		s, cx := newReady(0), benchContext()
		b.ReportAllocs()
		for b.Loop() {
			var f future.Future[future.Result[int]] = Read(s, buf)
			mustReady(b, f.Poll(cx))
		}
	})
	b.Run("io", func(b *testing.B) {
		var r io.Reader = newReady(0)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := r.Read(buf); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// WriteAll of 64 bytes, against io.Writer.Write.
func BenchmarkWriteAll64(b *testing.B) {
	buf := pattern(64)
	b.Run("aio-reset", func(b *testing.B) {
		s, cx := newReady(0), benchContext()
		var f WriteAllFuture
		b.ReportAllocs()
		for b.Loop() {
			f.Reset(s, buf)
			mustReady(b, f.Poll(cx))
		}
	})
	b.Run("aio-new", func(b *testing.B) {
		s, cx := newReady(0), benchContext()
		b.ReportAllocs()
		for b.Loop() {
			var f future.Future[future.Result[int]] = WriteAll(s, buf)
			mustReady(b, f.Poll(cx))
		}
	})
	b.Run("io", func(b *testing.B) {
		var w io.Writer = newReady(0)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := w.Write(buf); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Copy of 64 KiB through a 4 KiB buffer, against io.CopyBuffer.
func BenchmarkCopy64K(b *testing.B) {
	const size = 64 << 10
	cbuf := make([]byte, 4096)
	b.Run("aio-reset", func(b *testing.B) {
		src, dst, cx := newReady(size), newReady(0), benchContext()
		var f CopyFuture
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			src.rewind()
			f.Reset(dst, src, cbuf)
			mustReady(b, f.Poll(cx))
		}
	})
	b.Run("io", func(b *testing.B) {
		src, dst := newReady(size), newReady(0)
		// Hide the ReaderFrom/WriterTo fast paths: the loop is the peer.
		r, w := struct{ io.Reader }{src}, struct{ io.Writer }{dst}
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			src.rewind()
			if _, err := io.CopyBuffer(w, r, cbuf); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// ReadLine of 64-byte lines through a 4 KiB buffer, against
// bufio.Reader.ReadSlice.
func BenchmarkReadLine(b *testing.B) {
	line := append(pattern(63), '\n')
	for i := range line[:63] {
		if line[i] == '\n' {
			line[i] = ' '
		}
	}
	block := make([]byte, 0, 64<<10)
	for len(block) < cap(block) {
		block = append(block, line...)
	}
	b.Run("aio-reset", func(b *testing.B) {
		s, cx := &readyStream{block: block}, benchContext()
		br, _ := NewBufReader(s, 4096)
		var f ReadLineFuture
		b.ReportAllocs()
		for b.Loop() {
			f.Reset(br)
			mustReady(b, f.Poll(cx))
		}
	})
	b.Run("bufio", func(b *testing.B) {
		br := bufio.NewReaderSize(&readyStream{block: block}, 4096)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := br.ReadSlice('\n'); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Buffered 64-byte writes, flushed every 64 writes, against bufio.Writer.
func BenchmarkBufWrite64(b *testing.B) {
	buf := pattern(64)
	b.Run("aio-reset", func(b *testing.B) {
		cx := benchContext()
		bw, _ := NewBufWriter(newReady(0), 4096)
		var f WriteAllFuture
		var fl FlushFuture
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			f.Reset(bw, buf)
			mustReady(b, f.Poll(cx))
			if i++; i%64 == 0 {
				fl.Reset(bw)
				mustReady(b, fl.Poll(cx))
			}
		}
	})
	b.Run("bufio", func(b *testing.B) {
		bw := bufio.NewWriterSize(newReady(0), 4096)
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			if _, err := bw.Write(buf); err != nil {
				b.Fatal(err)
			}
			if i++; i%64 == 0 {
				if err := bw.Flush(); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
