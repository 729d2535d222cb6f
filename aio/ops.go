package aio

import (
	"io"

	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/waitslot"
)

// pollRead is one PollRead made by a future that keeps wait.
func pollRead(r Reader, cx *future.Context, p []byte, wait *waitslot.Slot) pollN {
	wait.Again(cx, withdrawRead(r))
	res := r.PollRead(cx, p)
	wait.Track(res.IsPending(), cx)
	return res
}

// pollWrite is one PollWrite made by a future that keeps wait.
func pollWrite(w Writer, cx *future.Context, p []byte, wait *waitslot.Slot) pollN {
	wait.Again(cx, withdrawWrite(w))
	res := w.PollWrite(cx, p)
	wait.Track(res.IsPending(), cx)
	return res
}

// withdrawRead and withdrawWrite are how the futures of this package give
// back a read or write they left pending on a stream (see waitslot.Slot).
func withdrawRead(r Reader) func(future.Waker) {
	return func(w future.Waker) { cancelRead(r, w) }
}

func withdrawWrite(wr Writer) func(future.Waker) {
	return func(w future.Waker) { cancelWrite(wr, w) }
}

// cancelRead and cancelWrite withdraw the read or write pending on a stream
// with waker w, through its ReadCanceler or WriteCanceler (a stream that is
// neither has no slot to give back).
func cancelRead(r Reader, w future.Waker) {
	if c, ok := r.(ReadCanceler); ok {
		c.CancelRead(w)
	}
}

func cancelWrite(wr Writer, w future.Waker) {
	if c, ok := wr.(WriteCanceler); ok {
		c.CancelWrite(w)
	}
}

// ReadFuture is one PollRead as a future: it yields what PollRead yields (n
// bytes read into its buffer, or an error, io.EOF at the end). Dropped while
// pending, it has consumed nothing and withdraws its pending read.
//
// The zero ReadFuture is unusable; Read returns a ready one, and Reset
// readies one held by value (a state machine's field), which allocates
// nothing.
type ReadFuture struct {
	r    Reader
	p    []byte
	wait waitslot.Slot
}

// Read returns a future that reads once from r into p.
func Read(r Reader, p []byte) *ReadFuture {
	f := new(ReadFuture)
	f.Reset(r, p)
	return f
}

// Reset makes f a new read from r into p. Reset a future only once it
// completed or after Drop.
func (f *ReadFuture) Reset(r Reader, p []byte) { *f = ReadFuture{r: r, p: p} }

// Poll reads once, as Reader.PollRead.
func (f *ReadFuture) Poll(cx *future.Context) future.Poll[future.Result[int]] {
	return pollRead(f.r, cx, f.p, &f.wait)
}

// Drop withdraws the pending read, if any; no bytes are lost.
func (f *ReadFuture) Drop() { f.wait.Drop(withdrawRead(f.r)) }

// WriteFuture is one PollWrite as a future: it yields the number of bytes
// the writer accepted (possibly fewer than given) or an error. Dropped while
// pending, it has written nothing.
//
// Write returns a ready one; Reset readies one held by value.
type WriteFuture struct {
	w    Writer
	p    []byte
	wait waitslot.Slot
}

// Write returns a future that writes once from p to w.
func Write(w Writer, p []byte) *WriteFuture {
	f := new(WriteFuture)
	f.Reset(w, p)
	return f
}

// Reset makes f a new write of p to w. Reset a future only once it completed
// or after Drop.
func (f *WriteFuture) Reset(w Writer, p []byte) { *f = WriteFuture{w: w, p: p} }

// Poll writes once, as Writer.PollWrite.
func (f *WriteFuture) Poll(cx *future.Context) future.Poll[future.Result[int]] {
	return pollWrite(f.w, cx, f.p, &f.wait)
}

// Drop withdraws the pending write, if any.
func (f *WriteFuture) Drop() { f.wait.Drop(withdrawWrite(f.w)) }

// ReadFullFuture reads until its buffer is full, as io.ReadFull: it yields
// len(p) and no error, or the count read with io.EOF (nothing was read) or
// io.ErrUnexpectedEOF (the stream ended part way), or with the stream's
// error. N tells how much of the buffer is filled, also after Drop: bytes a
// dropped ReadFull read are in p[:N()], not lost.
//
// ReadFull returns a ready one; Reset readies one held by value.
type ReadFullFuture struct {
	r    Reader
	p    []byte
	n    int
	wait waitslot.Slot
}

// ReadFull returns a future that fills p from r.
func ReadFull(r Reader, p []byte) *ReadFullFuture {
	f := new(ReadFullFuture)
	f.Reset(r, p)
	return f
}

// Reset makes f a new ReadFull of p from r. Reset a future only once it
// completed or after Drop.
func (f *ReadFullFuture) Reset(r Reader, p []byte) { *f = ReadFullFuture{r: r, p: p} }

// N returns the number of bytes read into p so far.
func (f *ReadFullFuture) N() int { return f.n }

// Poll reads until p is full, the stream ends or fails, or it would wait.
func (f *ReadFullFuture) Poll(cx *future.Context) future.Poll[future.Result[int]] {
	for f.n < len(f.p) {
		res := pollRead(f.r, cx, f.p[f.n:], &f.wait)
		v, ready := res.Value()
		if !ready {
			return res
		}
		f.n += v.Value
		switch {
		case v.Err == io.EOF && f.n == 0:
			return failN(io.EOF)
		case v.Err == io.EOF:
			return future.Ready(future.Result[int]{Value: f.n, Err: io.ErrUnexpectedEOF})
		case v.Err != nil:
			return future.Ready(future.Result[int]{Value: f.n, Err: v.Err})
		case v.Value == 0:
			return future.Ready(future.Result[int]{Value: f.n, Err: io.ErrNoProgress})
		}
	}
	return readyN(f.n)
}

// Drop withdraws the pending read, if any; the bytes read so far stay in
// p[:N()].
func (f *ReadFullFuture) Drop() { f.wait.Drop(withdrawRead(f.r)) }

// WriteAllFuture writes its whole buffer: it yields len(p) and no error, or
// the count written and the error that stopped it (io.ErrShortWrite for a
// writer that accepted nothing without an error). N tells how much was
// written, also after Drop.
//
// WriteAll returns a ready one; Reset readies one held by value.
type WriteAllFuture struct {
	w    Writer
	p    []byte
	n    int
	wait waitslot.Slot
}

// WriteAll returns a future that writes all of p to w.
func WriteAll(w Writer, p []byte) *WriteAllFuture {
	f := new(WriteAllFuture)
	f.Reset(w, p)
	return f
}

// Reset makes f a new WriteAll of p to w. Reset a future only once it
// completed or after Drop.
func (f *WriteAllFuture) Reset(w Writer, p []byte) { *f = WriteAllFuture{w: w, p: p} }

// N returns the number of bytes of p written so far.
func (f *WriteAllFuture) N() int { return f.n }

// Poll writes until p is written, the writer fails, or it would wait.
func (f *WriteAllFuture) Poll(cx *future.Context) future.Poll[future.Result[int]] {
	for f.n < len(f.p) {
		res := pollWrite(f.w, cx, f.p[f.n:], &f.wait)
		v, ready := res.Value()
		if !ready {
			return res
		}
		f.n += v.Value
		switch {
		case v.Err != nil:
			return future.Ready(future.Result[int]{Value: f.n, Err: v.Err})
		case v.Value == 0:
			return future.Ready(future.Result[int]{Value: f.n, Err: io.ErrShortWrite})
		}
	}
	return readyN(f.n)
}

// Drop withdraws the pending write, if any; p[:N()] was written.
func (f *WriteAllFuture) Drop() { f.wait.Drop(withdrawWrite(f.w)) }

// writeSideOp is a flush or a close-write of a Writer: the futures of the
// write direction that carry no bytes.
type writeSideOp struct {
	w     Writer
	close bool
	wait  waitslot.Slot
}

// Poll flushes or closes the write direction, as pollSide.
func (f *writeSideOp) Poll(cx *future.Context) future.Poll[future.Result[struct{}]] {
	f.wait.Again(cx, withdrawWrite(f.w))
	res := pollSide(f.w, cx, f.close)
	f.wait.Track(res.IsPending(), cx)
	return res
}

// pollSide polls w once to flush it (as Flusher.PollFlush; Ready at once for
// a writer that is not one, since it holds nothing back) or to close its
// write direction (as CloseWriter.PollCloseWrite; ErrNotSupported for a
// writer that is not one).
func pollSide(w Writer, cx *future.Context, close bool) pollUnit {
	if close {
		if c, ok := w.(CloseWriter); ok {
			return c.PollCloseWrite(cx)
		}
		return failUnit(ErrNotSupported)
	}
	if fl, ok := w.(Flusher); ok {
		return fl.PollFlush(cx)
	}
	return readyUnit()
}

// Drop withdraws the pending flush or close, if any; buffered bytes stay
// buffered.
func (f *writeSideOp) Drop() { f.wait.Drop(withdrawWrite(f.w)) }

// FlushFuture flushes a writer: it completes once every byte the writer
// accepted before has been delivered (at once for a writer that is not a
// Flusher, since it holds nothing back). Dropped while pending, it withdraws
// its pending flush; buffered bytes stay buffered.
//
// Flush returns a ready one; Reset readies one held by value.
type FlushFuture struct{ writeSideOp }

// Flush returns a future that flushes w.
func Flush(w Writer) *FlushFuture {
	f := new(FlushFuture)
	f.Reset(w)
	return f
}

// Reset makes f a new flush of w. Reset a future only once it completed or
// after Drop.
func (f *FlushFuture) Reset(w Writer) { f.writeSideOp = writeSideOp{w: w} }

// CloseWriteFuture closes a stream's write direction (see CloseWriter); it
// fails with ErrNotSupported for a writer that is not a CloseWriter.
//
// CloseWrite returns a ready one; Reset readies one held by value.
type CloseWriteFuture struct{ writeSideOp }

// CloseWrite returns a future that flushes w and closes its write direction.
func CloseWrite(w Writer) *CloseWriteFuture {
	f := new(CloseWriteFuture)
	f.Reset(w)
	return f
}

// Reset makes f a new CloseWrite of w. Reset a future only once it
// completed or after Drop.
func (f *CloseWriteFuture) Reset(w Writer) { f.writeSideOp = writeSideOp{w: w, close: true} }
