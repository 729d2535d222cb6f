package aio

import (
	"io"

	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/waitslot"
)

// DefaultCopyBuffer is the size of the buffer Copy allocates.
const DefaultCopyBuffer = 8 << 10

// CopyFuture copies a Reader to a Writer until the reader's io.EOF, as
// io.Copy: it yields the number of bytes written and no error at the end of
// the source, or the count and the first error of either side.
//
// When the source would wait and the destination is a Flusher holding bytes
// copied so far, CopyFuture flushes it, so that a buffered destination never
// sits on data while the copy waits for more; at the end it flushes too.
//
// Copy allocates the future and its buffer; CopyBuffer takes the caller's
// buffer; Reset readies one held by value and allocates nothing.
// Dropped part way, the future withdraws its pending read and write; bytes it
// read but had not yet written are returned by Unwritten, not lost.
type CopyFuture struct {
	dst        Writer
	src        Reader
	buf        []byte
	start, end int // buf[start:end] was read and is not yet written
	n          int64
	srcErr     error // the source's io.EOF or failure, met after reading buf[:end]
	dirty      bool  // bytes written since dst was last flushed
	rwait      waitslot.Slot
	wwait      waitslot.Slot
}

// Copy returns a future that copies src to dst through a buffer of
// DefaultCopyBuffer bytes.
func Copy(dst Writer, src Reader) *CopyFuture {
	return CopyBuffer(dst, src, make([]byte, DefaultCopyBuffer))
}

// CopyBuffer returns a future that copies src to dst through buf, which
// must not be empty (an empty one gets a buffer of DefaultCopyBuffer bytes).
func CopyBuffer(dst Writer, src Reader, buf []byte) *CopyFuture {
	f := new(CopyFuture)
	f.Reset(dst, src, buf)
	return f
}

// Reset makes f a new copy of src to dst through buf (which must not be
// empty: an empty one gets a buffer of DefaultCopyBuffer bytes). Reset a
// future only once it completed or after Drop.
func (f *CopyFuture) Reset(dst Writer, src Reader, buf []byte) {
	if len(buf) == 0 {
		buf = make([]byte, DefaultCopyBuffer)
	}
	*f = CopyFuture{dst: dst, src: src, buf: buf}
}

// N returns the number of bytes written so far.
func (f *CopyFuture) N() int64 { return f.n }

// Unwritten returns the bytes read from the source and not yet written to
// the destination. The slice aliases the future's buffer.
func (f *CopyFuture) Unwritten() []byte { return f.buf[f.start:f.end] }

// Poll copies until the source ends, either side fails, or it has to wait.
func (f *CopyFuture) Poll(cx *future.Context) future.Poll[future.Result[int64]] {
	// A read left pending by an earlier poll with another waker is
	// withdrawn now, even if this poll only writes.
	f.rwait.Again(cx, withdrawRead(f.src))
	for {
		for f.start < f.end {
			v, ready := pollWrite(f.dst, cx, f.buf[f.start:f.end], &f.wwait).Value()
			if !ready {
				return future.Pending[future.Result[int64]]()
			}
			if v.Err == nil && v.Value == 0 {
				v.Err = io.ErrShortWrite
			}
			f.start += v.Value
			f.n += int64(v.Value)
			f.dirty = f.dirty || v.Value > 0
			if v.Err != nil {
				return f.finish(v.Err)
			}
		}
		f.start, f.end = 0, 0
		if f.srcErr != nil {
			if f.srcErr != io.EOF {
				return f.finish(f.srcErr)
			}
			if p := f.flush(cx); p.IsPending() {
				return p
			} else if v, _ := p.Value(); v.Err != nil {
				return f.finish(v.Err)
			}
			return f.finish(nil)
		}
		v, ready := pollRead(f.src, cx, f.buf, &f.rwait).Value()
		if !ready {
			if p := f.flush(cx); p.IsReady() {
				if v, _ := p.Value(); v.Err != nil {
					return f.finish(v.Err)
				}
			}
			return future.Pending[future.Result[int64]]()
		}
		f.end = v.Value
		f.srcErr = v.Err
		if v.Err == nil && v.Value == 0 {
			f.srcErr = io.ErrNoProgress
		}
	}
}

// flush flushes dst if it holds bytes this copy wrote. A Ready result with
// no error is returned also when there is nothing to flush.
func (f *CopyFuture) flush(cx *future.Context) future.Poll[future.Result[int64]] {
	fl, ok := f.dst.(Flusher)
	if !f.dirty || !ok {
		return future.Ready(future.Ok(f.n))
	}
	f.wwait.Again(cx, withdrawWrite(f.dst))
	v, ready := fl.PollFlush(cx).Value()
	f.wwait.Track(!ready, cx)
	if !ready {
		return future.Pending[future.Result[int64]]()
	}
	f.dirty = false
	return future.Ready(future.Result[int64]{Value: f.n, Err: v.Err})
}

// finish ends the copy with err, withdrawing anything still pending.
func (f *CopyFuture) finish(err error) future.Poll[future.Result[int64]] {
	f.Drop()
	return future.Ready(future.Result[int64]{Value: f.n, Err: err})
}

// Drop withdraws the pending read and write, if any; what was read and not
// written is in Unwritten.
func (f *CopyFuture) Drop() {
	f.rwait.Drop(withdrawRead(f.src))
	f.wwait.Drop(withdrawWrite(f.dst))
}
