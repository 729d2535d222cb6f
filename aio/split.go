package aio

import (
	"errors"

	"github.com/libasync/libasync/future"
)

// ErrNotSameStream is the outcome of Reunite with halves of two different
// streams.
var ErrNotSameStream = errors.New("aio: halves of different streams")

// Split returns the read half and the write half of rw, so that one task
// reads while another writes.
//
// Requirement: rw must allow one read and one write in progress at once,
// polled from two goroutines: PollRead safe to run concurrently with
// PollWrite (and PollFlush, PollCloseWrite), and separate pending slots, so
// that a pending read and a pending write wake their own tasks. Sockets of
// libasync meet it. A BufReader or BufWriter does not (each is one-sided and
// single-task): split the stream first, then buffer each half. A stream that
// does not meet it says so in its documentation, and its halves must then
// not be used at the same time.
//
// The halves add no locking and no allocation per operation; each half
// serves one task at a time, with the stream's own rules (ErrBusy) for a
// second one.
func Split(rw ReadWriter) (*ReadHalf, *WriteHalf) {
	w := &WriteHalf{rw: rw}
	return &ReadHalf{rw: rw, mate: w}, w
}

// ReadHalf is the reading side of a stream given by Split. It is a Reader
// and a ReadCanceler.
type ReadHalf struct {
	rw   ReadWriter
	mate *WriteHalf // the other half made by the same Split
}

// PollRead reads from the stream, as its PollRead.
func (h *ReadHalf) PollRead(cx *future.Context, p []byte) future.Poll[future.Result[int]] {
	return h.rw.PollRead(cx, p)
}

// CancelRead withdraws a pending read, when the stream supports that.
func (h *ReadHalf) CancelRead(w future.Waker) { cancelRead(h.rw, w) }

// Reunite returns the stream that h and w were split from, or
// ErrNotSameStream when they come from different streams. The halves
// must not be used afterwards.
func (h *ReadHalf) Reunite(w *WriteHalf) (ReadWriter, error) {
	if w == nil || h.mate != w {
		return nil, ErrNotSameStream
	}
	return h.rw, nil
}

// WriteHalf is the writing side of a stream given by Split. It is a Writer,
// a Flusher (flushing a stream that is not one completes at once), a
// CloseWriter (failing with ErrNotSupported over a stream that cannot
// half-close) and a WriteCanceler.
type WriteHalf struct {
	rw ReadWriter
}

// PollWrite writes to the stream, as its PollWrite.
func (h *WriteHalf) PollWrite(cx *future.Context, p []byte) future.Poll[future.Result[int]] {
	return h.rw.PollWrite(cx, p)
}

// PollFlush flushes the stream when it is a Flusher.
func (h *WriteHalf) PollFlush(cx *future.Context) future.Poll[future.Result[struct{}]] {
	return pollSide(h.rw, cx, false)
}

// PollCloseWrite closes the stream's write direction when it is a
// CloseWriter; the read half goes on reading.
func (h *WriteHalf) PollCloseWrite(cx *future.Context) future.Poll[future.Result[struct{}]] {
	return pollSide(h.rw, cx, true)
}

// CancelWrite withdraws a pending write, when the stream supports that.
func (h *WriteHalf) CancelWrite(w future.Waker) { cancelWrite(h.rw, w) }
