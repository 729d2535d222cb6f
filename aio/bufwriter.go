package aio

import (
	"io"
	"net"

	"github.com/libasync/libasync/future"
)

// BufWriter adds a buffer to a Writer: small writes are gathered and reach
// the stream beneath in few, large writes. It is a Flusher (the Flush future
// drains it), a CloseWriter when the stream beneath is one, and a
// WriteCanceler that passes withdrawals on.
//
// PollWrite accepts bytes into the buffer (Ready with the count copied),
// writing the buffer out first when it is full; a write at least as large
// as the buffer, made while it is empty, goes to the stream directly.
//
// Failure: when the stream beneath fails, the error is kept and every later
// PollWrite, PollFlush and PollCloseWrite returns it. Nothing is dropped
// silently: the bytes that were accepted and never delivered are still in the
// buffer, and Unwritten returns them, so the caller knows exactly what the
// peer may not have.
//
// A BufWriter is used by one task at a time, like the stream it writes.
type BufWriter struct {
	w          Writer
	buf        []byte
	start, end int // buf[start:end] was accepted and is not yet written
	err        error
	closed     bool // PollCloseWrite succeeded: writes fail with net.ErrClosed
}

// NewBufWriter returns a BufWriter over w with a buffer of size bytes
// (DefaultBufSize when size is 0). A negative size is ErrNegativeSize.
func NewBufWriter(w Writer, size int) (*BufWriter, error) {
	buf, err := newBuffer(size, DefaultBufSize)
	if err != nil {
		return nil, err
	}
	return &BufWriter{w: w, buf: buf}, nil
}

// Reset discards the buffered bytes and any kept error, and makes b write
// to w, reusing its buffer.
func (b *BufWriter) Reset(w Writer) { *b = BufWriter{w: w, buf: b.buf} }

// Size returns the size of the buffer.
func (b *BufWriter) Size() int { return len(b.buf) }

// Buffered returns the number of bytes accepted and not yet written to the
// stream beneath.
func (b *BufWriter) Buffered() int { return b.end - b.start }

// Available returns how many bytes PollWrite accepts before the buffer must
// be written out.
func (b *BufWriter) Available() int { return len(b.buf) - b.Buffered() }

// Unwritten returns the bytes accepted and not yet written to the stream
// beneath: after a failure, the ones the stream did not get. The slice
// aliases the buffer and is valid until the next operation on b.
func (b *BufWriter) Unwritten() []byte { return b.buf[b.start:b.end] }

// Err returns the kept failure of the stream beneath, or nil.
func (b *BufWriter) Err() error { return b.err }

// drain writes the buffer to the stream beneath until it is empty. It
// returns Ready with the kept error or nil, or Pending.
func (b *BufWriter) drain(cx *future.Context) pollUnit {
	for b.start < b.end {
		v, ready := b.w.PollWrite(cx, b.buf[b.start:b.end]).Value()
		if !ready {
			return future.Pending[future.Result[struct{}]]()
		}
		b.start += v.Value
		if v.Err == nil && v.Value == 0 {
			v.Err = io.ErrShortWrite
		}
		if v.Err != nil {
			b.err = v.Err
			return failUnit(v.Err)
		}
	}
	b.start, b.end = 0, 0
	return readyUnit()
}

// PollWrite accepts bytes from p, as described on BufWriter.
func (b *BufWriter) PollWrite(cx *future.Context, p []byte) future.Poll[future.Result[int]] {
	switch {
	case b.err != nil:
		return failN(b.err)
	case b.closed:
		return failN(net.ErrClosed)
	}
	if len(p) == 0 {
		return readyN(0)
	}
	if b.end == len(b.buf) {
		if b.start == 0 {
			if v, ready := b.drain(cx).Value(); !ready {
				return future.Pending[future.Result[int]]()
			} else if v.Err != nil {
				return failN(v.Err)
			}
		} else {
			b.end = copy(b.buf, b.buf[b.start:b.end])
			b.start = 0
		}
	}
	if b.start == b.end && len(p) >= len(b.buf) {
		res := b.w.PollWrite(cx, p)
		if v, ready := res.Value(); ready && v.Err != nil {
			b.err = v.Err
		}
		return res
	}
	n := copy(b.buf[b.end:], p)
	b.end += n
	return readyN(n)
}

// PollFlush writes the buffer out, then flushes the stream beneath when it
// is a Flusher.
func (b *BufWriter) PollFlush(cx *future.Context) future.Poll[future.Result[struct{}]] {
	return b.drainThen(cx, false)
}

// PollCloseWrite writes the buffer out, then closes the write direction of
// the stream beneath; it fails with ErrNotSupported (after the buffer was
// written) when that stream is not a CloseWriter. Once it succeeded,
// PollWrite fails with net.ErrClosed.
func (b *BufWriter) PollCloseWrite(cx *future.Context) future.Poll[future.Result[struct{}]] {
	return b.drainThen(cx, true)
}

// drainThen writes the buffer out, then flushes the stream beneath or
// closes its write direction, as pollSide.
func (b *BufWriter) drainThen(cx *future.Context, close bool) pollUnit {
	if b.err != nil {
		return failUnit(b.err)
	}
	if res := b.drain(cx); !isOK(res) {
		return res
	}
	res := pollSide(b.w, cx, close)
	b.closed = b.closed || close && isOK(res)
	return res
}

// CancelWrite withdraws a pending write on the stream beneath, if it
// supports that (see WriteCanceler).
func (b *BufWriter) CancelWrite(w future.Waker) { cancelWrite(b.w, w) }

// isOK reports whether p is Ready without an error.
func isOK(p pollUnit) bool {
	v, ready := p.Value()
	return ready && v.Err == nil
}
