package aio

import (
	"bytes"
	"io"

	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/waitslot"
)

// DefaultBufSize is the buffer size of a BufReader or BufWriter made with a
// size of zero.
const DefaultBufSize = 4096

// BufReader adds a buffer to a Reader: fewer, larger reads of the stream
// beneath, and reads up to a delimiter (ReadSlice, ReadLine, ReadUntil).
// It is itself a Reader, and a ReadCanceler that passes withdrawals on.
//
// Buffer ownership: a slice returned by PollFill, PollReadSlice, ReadSlice or
// ReadLine aliases the BufReader's buffer. It is valid until the next
// operation on the BufReader (any read, Consume, Discard or Reset), which may
// overwrite it; copy what must live longer.
//
// An error of the stream beneath is returned once, after the bytes buffered
// before it; io.EOF then stays, as the stream beneath keeps giving it.
// A BufReader is used by one task at a time, like the stream it reads.
type BufReader struct {
	r          Reader
	buf        []byte
	rpos, wpos int   // buf[rpos:wpos] is buffered
	scanned    int   // buf[rpos:rpos+scanned] holds no delimiter looked for
	err        error // met by the last fill, given once the buffer is drained
}

// NewBufReader returns a BufReader over r with a buffer of size bytes
// (DefaultBufSize when size is 0). A negative size is ErrNegativeSize.
func NewBufReader(r Reader, size int) (*BufReader, error) {
	buf, err := newBuffer(size, DefaultBufSize)
	if err != nil {
		return nil, err
	}
	return &BufReader{r: r, buf: buf}, nil
}

// Reset discards the buffered bytes and any kept error, and makes b read
// from r, reusing its buffer.
func (b *BufReader) Reset(r Reader) { *b = BufReader{r: r, buf: b.buf} }

// Size returns the size of the buffer.
func (b *BufReader) Size() int { return len(b.buf) }

// Buffered returns the number of bytes that can be read without polling
// the stream beneath.
func (b *BufReader) Buffered() int { return b.wpos - b.rpos }

// consume drops n buffered bytes.
func (b *BufReader) consume(n int) {
	b.rpos += n
	b.scanned = 0
	if b.rpos == b.wpos {
		b.rpos, b.wpos = 0, 0
	}
}

// takeErr returns the kept error, forgetting it unless it is io.EOF.
func (b *BufReader) takeErr() error {
	err := b.err
	if err != io.EOF {
		b.err = nil
	}
	return err
}

// fill polls the stream beneath once for more bytes at the end of the
// buffer, moving the buffered bytes to its start first when that makes room.
// It reports whether the poll was Ready (bytes added, or an error kept).
func (b *BufReader) fill(cx *future.Context) bool {
	if b.rpos > 0 && b.wpos == len(b.buf) {
		b.wpos = copy(b.buf, b.buf[b.rpos:b.wpos])
		b.rpos = 0
	}
	v, ready := b.r.PollRead(cx, b.buf[b.wpos:]).Value()
	if !ready {
		return false
	}
	b.wpos += v.Value
	if v.Err != nil {
		b.err = v.Err
	} else if v.Value == 0 {
		b.err = io.ErrNoProgress
	}
	return true
}

// PollRead reads from the buffer, filling it first when it is empty. A read
// at least as large as the buffer, made while it is empty, goes to the
// stream beneath directly, saving a copy.
func (b *BufReader) PollRead(cx *future.Context, p []byte) future.Poll[future.Result[int]] {
	if len(p) == 0 {
		return readyN(0)
	}
	if b.rpos == b.wpos {
		if b.err != nil {
			return failN(b.takeErr())
		}
		if len(p) >= len(b.buf) {
			return b.r.PollRead(cx, p)
		}
		if !b.fill(cx) {
			return future.Pending[future.Result[int]]()
		}
		if b.rpos == b.wpos {
			return failN(b.takeErr())
		}
	}
	n := copy(p, b.buf[b.rpos:b.wpos])
	b.consume(n)
	return readyN(n)
}

// CancelRead withdraws a pending read on the stream beneath, if it supports
// that (see ReadCanceler).
func (b *BufReader) CancelRead(w future.Waker) { cancelRead(b.r, w) }

// PollFill returns the buffered bytes, polling the stream beneath for more
// when none are buffered. The bytes stay buffered until Consume; the slice
// follows the buffer ownership rule. At the end of the stream it returns
// io.EOF.
func (b *BufReader) PollFill(cx *future.Context) future.Poll[future.Result[[]byte]] {
	if b.rpos == b.wpos {
		if b.err == nil && !b.fill(cx) {
			return future.Pending[future.Result[[]byte]]()
		}
		if b.rpos == b.wpos {
			return future.Ready(future.Fail[[]byte](b.takeErr()))
		}
	}
	return future.Ready(future.Ok(b.buf[b.rpos:b.wpos]))
}

// Consume marks n bytes returned by PollFill as read. n is clamped to the
// buffered count.
func (b *BufReader) Consume(n int) { b.consume(max(0, min(n, b.Buffered()))) }

// sliceEnd tells how pollSlice ended.
type sliceEnd int

const (
	endDelim  sliceEnd = iota // the slice ends with the delimiter
	endFull                   // the buffer filled without a delimiter
	endStream                 // the stream ended or failed; the slice holds what came before
)

// pollSlice looks for delim in the buffer, filling it until found, full, or
// the stream ends; it returns the length of the slice from rpos, without
// consuming it. ready is false when the stream beneath would wait. Bytes
// already searched are not searched again on the next poll.
func (b *BufReader) pollSlice(cx *future.Context, delim byte) (n int, end sliceEnd, ready bool) {
	for {
		if i := bytes.IndexByte(b.buf[b.rpos+b.scanned:b.wpos], delim); i >= 0 {
			n = b.scanned + i + 1
			return n, endDelim, true
		}
		b.scanned = b.wpos - b.rpos
		switch {
		case b.err != nil:
			return b.scanned, endStream, true
		case b.scanned == len(b.buf):
			return b.scanned, endFull, true
		case !b.fill(cx):
			return 0, 0, false
		}
	}
}

// PollReadSlice reads up to and including delim, and returns the slice of
// the buffer that holds it (see the buffer ownership rule). The slice does
// not end with delim in two cases: the buffer filled first (it is the whole
// buffer; the next call goes on), or the stream ended first (it holds the
// rest of the stream; the next call gives io.EOF or the stream's error).
// It returns an error only when no bytes are left.
func (b *BufReader) PollReadSlice(cx *future.Context, delim byte) future.Poll[future.Result[[]byte]] {
	n, end, ready := b.pollSlice(cx, delim)
	if !ready {
		return future.Pending[future.Result[[]byte]]()
	}
	if end == endStream && n == 0 {
		return future.Ready(future.Fail[[]byte](b.takeErr()))
	}
	line := b.buf[b.rpos : b.rpos+n]
	b.consume(n)
	return future.Ready(future.Result[[]byte]{Value: line})
}

// ReadSlice returns a future of PollReadSlice(delim).
func (b *BufReader) ReadSlice(delim byte) *ReadSliceFuture {
	f := new(ReadSliceFuture)
	f.Reset(b, delim)
	return f
}

// ReadSliceFuture yields what BufReader.PollReadSlice does. Dropped while
// pending, it loses nothing: the bytes it looked at stay buffered.
//
// BufReader.ReadSlice returns a ready one; Reset readies one held by value.
type ReadSliceFuture struct {
	b     *BufReader
	delim byte
	wait  waitslot.Slot
}

// Reset makes f a new ReadSlice of b up to delim. Reset a future only once
// it completed or after Drop.
func (f *ReadSliceFuture) Reset(b *BufReader, delim byte) {
	*f = ReadSliceFuture{b: b, delim: delim}
}

// Poll reads up to the delimiter, as BufReader.PollReadSlice.
func (f *ReadSliceFuture) Poll(cx *future.Context) future.Poll[future.Result[[]byte]] {
	f.wait.Again(cx, withdrawRead(f.b))
	res := f.b.PollReadSlice(cx, f.delim)
	f.wait.Track(res.IsPending(), cx)
	return res
}

// Drop withdraws the pending read, if any.
func (f *ReadSliceFuture) Drop() { f.wait.Drop(withdrawRead(f.b)) }

// ReadLine returns a future that reads one line: the bytes up to "\n", with
// the "\n" or "\r\n" removed. A last line without "\n" at the end of the
// stream is returned as a line; after it comes io.EOF. A line that does not
// fit in the buffer fails with ErrLineTooLong, and one cut short by a
// failure of the stream fails with that error; either stays buffered
// (Discard or ReadSlice take it). The line follows the buffer ownership rule.
func (b *BufReader) ReadLine() *ReadLineFuture {
	f := new(ReadLineFuture)
	f.Reset(b)
	return f
}

// ReadLineFuture yields what BufReader.ReadLine promises. Dropped while
// pending, it loses nothing.
//
// BufReader.ReadLine returns a ready one; Reset readies one held by value.
type ReadLineFuture struct {
	b    *BufReader
	wait waitslot.Slot
}

// Reset makes f a new ReadLine of b. Reset a future only once it completed or
// after Drop.
func (f *ReadLineFuture) Reset(b *BufReader) { *f = ReadLineFuture{b: b} }

// Poll reads one line.
func (f *ReadLineFuture) Poll(cx *future.Context) future.Poll[future.Result[[]byte]] {
	f.wait.Again(cx, withdrawRead(f.b))
	b := f.b
	n, end, ready := b.pollSlice(cx, '\n')
	f.wait.Track(!ready, cx)
	switch {
	case !ready:
		return future.Pending[future.Result[[]byte]]()
	case end == endFull:
		return future.Ready(future.Fail[[]byte](ErrLineTooLong))
	case end == endStream && (n == 0 || b.err != io.EOF):
		return future.Ready(future.Fail[[]byte](b.takeErr()))
	}
	line := b.buf[b.rpos : b.rpos+n]
	b.consume(n)
	if end == endDelim {
		line = line[:len(line)-1]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
	}
	return future.Ready(future.Result[[]byte]{Value: line})
}

// Drop withdraws the pending read, if any.
func (f *ReadLineFuture) Drop() { f.wait.Drop(withdrawRead(f.b)) }

// ReadUntil returns a future that appends to dst the bytes up to and
// including delim, however many buffers that takes, and yields the extended
// slice. At the end of the stream it yields what it appended (not ending in
// delim), or io.EOF when there was nothing; a failure of the stream yields
// the slice so far with the error. The result is the caller's memory, not
// the buffer's.
func (b *BufReader) ReadUntil(delim byte, dst []byte) *ReadUntilFuture {
	f := new(ReadUntilFuture)
	f.Reset(b, delim, dst)
	return f
}

// ReadUntilFuture yields what BufReader.ReadUntil promises. Bytes consumed
// from the buffer are in Bytes, also after Drop: a dropped ReadUntil loses
// nothing.
//
// BufReader.ReadUntil returns a ready one; Reset readies one held by value.
type ReadUntilFuture struct {
	b     *BufReader
	delim byte
	dst   []byte
	start int // len(dst) at the start
	wait  waitslot.Slot
}

// Reset makes f a new ReadUntil of b up to delim, appending to dst. Reset a
// future only once it completed or after Drop.
func (f *ReadUntilFuture) Reset(b *BufReader, delim byte, dst []byte) {
	*f = ReadUntilFuture{b: b, delim: delim, dst: dst, start: len(dst)}
}

// Bytes returns dst with what was appended so far.
func (f *ReadUntilFuture) Bytes() []byte { return f.dst }

// Poll reads until the delimiter, the end of the stream, or it would wait.
func (f *ReadUntilFuture) Poll(cx *future.Context) future.Poll[future.Result[[]byte]] {
	f.wait.Again(cx, withdrawRead(f.b))
	b := f.b
	for {
		n, end, ready := b.pollSlice(cx, f.delim)
		f.wait.Track(!ready, cx)
		if !ready {
			return future.Pending[future.Result[[]byte]]()
		}
		f.dst = append(f.dst, b.buf[b.rpos:b.rpos+n]...)
		b.consume(n)
		switch {
		case end == endDelim:
			return future.Ready(future.Ok(f.dst))
		case end == endStream:
			err := b.takeErr()
			if err == io.EOF && len(f.dst) > f.start {
				err = nil
			}
			return future.Ready(future.Result[[]byte]{Value: f.dst, Err: err})
		}
	}
}

// Drop withdraws the pending read, if any; what was read is in Bytes.
func (f *ReadUntilFuture) Drop() { f.wait.Drop(withdrawRead(f.b)) }

// Discard drops up to n buffered bytes without polling and returns how many
// it dropped.
func (b *BufReader) Discard(n int) int {
	n = max(0, min(n, b.Buffered()))
	b.consume(n)
	return n
}
