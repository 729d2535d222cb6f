// Package aio defines libasync's asynchronous byte streams and the helpers
// protocols are built with.
//
// A stream is read and written by polling, as Rust's AsyncRead and
// AsyncWrite: Reader.PollRead and Writer.PollWrite either make progress now
// or return Pending after arranging for the task's waker to be woken. The
// futures of this package (Read, Write, ReadFull, WriteAll, Copy, Flush,
// CloseWrite) turn those polls into values that future.Await and executors
// run. Each is a small struct: the constructors return a pointer (one
// allocation per operation), and a hand-written state machine that wants no
// allocation at all holds the struct by value and calls its Reset method.
//
// BufReader and BufWriter add buffering (line and delimiter reads, Flush);
// Split gives a stream's read and write sides to two tasks; NewIOReader and
// NewIOWriter let goroutine code use a stream through io.Reader and
// io.Writer, and FromReader and FromWriter put blocking io.Reader and
// io.Writer values behind this package's interfaces. Pipe and Duplex are
// in-memory streams, for tests and for connecting tasks in one process.
//
// # Implementing a stream
//
// A stream (a socket of package socket, Pipe, the bridges) meets the
// contracts written at Reader and Writer, and:
//   - keeps one pending slot per direction (a socket: its reactor
//     Registration's read and write waiters), answers a second poller
//     ErrBusy, and implements ReadCanceler and WriteCanceler to free the slot
//     (a socket: Registration.Release), so that dropped futures leave it
//     usable;
//   - allows a read and a write in progress at once, from two goroutines,
//     so that Split serves two tasks;
//   - implements CloseWriter when it can half-close (TCP's shutdown of the
//     write side), Flusher when it holds bytes back, and io.Closer: Close
//     completes pending operations with net.ErrClosed (their tasks are
//     woken), and later ones fail with it.
//
// # Errors
//
// The end of a stream is io.EOF, as in package io. io.ErrUnexpectedEOF and
// io.ErrShortWrite mean what they mean there. A stream used after its Close
// gives net.ErrClosed, the error package net's connections give, so one check
// covers sockets and the bridges of this package; work cut short because the
// runtime closed gives future.ErrClosed.
package aio

import (
	"errors"

	"github.com/libasync/libasync/executor"
	"github.com/libasync/libasync/future"
)

// Reader is a byte stream that is read by polling.
//
// PollRead reads into p and returns one of:
//   - Ready(Ok(n)) with 0 < n <= len(p): p[:n] holds the next n bytes;
//   - Ready(Fail(err)): nothing was read; err is io.EOF at the clean end of
//     the stream, anything else is a failure;
//   - Pending: nothing was read, and cx.Waker() will be woken once reading
//     can make progress.
//
// A result never carries both bytes and an error: an implementation that
// meets an error (or the end of the stream) after reading some bytes returns
// the bytes and keeps the error for the next poll. Ready(Ok(0)) is returned
// only when len(p) == 0, and then without waiting.
//
// Bytes are consumed only by the poll that returns them. A Pending poll has
// consumed nothing, so abandoning a read (dropping its future) loses no data:
// the next read gets the bytes.
//
// At most one read is pending on a Reader at a time. A read is pending from a
// PollRead that returned Pending until the stream wakes its waker, until the
// next PollRead with a waker that WillWake it, or until it is withdrawn (see
// ReadCanceler). A PollRead with another waker while a read is pending comes
// from a second reader: implementations answer it Ready(Fail(ErrBusy))
// without disturbing the pending read (a socket does this through its
// reactor Registration, whose Release is its CancelRead). One that cannot
// tell readers apart says so in its documentation, and there the last waker
// wins.
//
// PollRead must not retain p after it returns.
type Reader interface {
	PollRead(cx *future.Context, p []byte) future.Poll[future.Result[int]]
}

// Writer is a byte stream that is written by polling.
//
// PollWrite writes from p and returns one of:
//   - Ready(Ok(n)) with 0 < n <= len(p): the stream accepted p[:n]; a short
//     write is not an error, the caller writes p[n:] next;
//   - Ready(Fail(err)): the stream accepted nothing from p and fails;
//   - Pending: nothing was accepted, and cx.Waker() will be woken once
//     writing can make progress.
//
// Ready(Ok(0)) is returned only when len(p) == 0. A writer that buffers (a
// BufWriter, FromWriter's bridge) accepts bytes before they reach their
// destination; it reports a later failure to deliver them on a later poll
// (PollWrite, PollFlush or PollCloseWrite) and says how many were lost.
//
// At most one write is pending at a time, with the same rule as Reader's:
// PollWrite, PollFlush and PollCloseWrite share the one pending slot, and a
// poll with another waker while it is taken gets ErrBusy.
//
// PollWrite must not retain p after it returns.
type Writer interface {
	PollWrite(cx *future.Context, p []byte) future.Poll[future.Result[int]]
}

// Flusher is a Writer that holds accepted bytes back (a buffer, a bridge to a
// goroutine). PollFlush returns Ready(Ok) once every byte accepted before it
// has been delivered to the writer's destination (and that destination
// flushed, when it is a Flusher too), Ready(Fail(err)) when delivery failed,
// or Pending.
type Flusher interface {
	Writer
	PollFlush(cx *future.Context) future.Poll[future.Result[struct{}]]
}

// CloseWriter is a Writer whose write direction can be closed on its own,
// as TCP's shutdown(SHUT_WR): PollCloseWrite flushes what is buffered, then
// tells the peer that no more bytes will come (it reads io.EOF), while
// reading, if the stream reads, goes on. Writing after it fails with
// net.ErrClosed. It returns Ready(Ok) when done, Ready(Fail(err)), or Pending.
type CloseWriter interface {
	Writer
	PollCloseWrite(cx *future.Context) future.Poll[future.Result[struct{}]]
}

// ReadCanceler is a Reader that remembers its pending reader (to answer a
// second one ErrBusy). CancelRead(w) withdraws the read left pending by a
// PollRead with waker w: the next reader may have a different waker. It does
// nothing when no read is pending or when the pending one does not WillWake
// w. It consumes no bytes; data that is arriving stays for the next read.
//
// The futures of this package call it when they are dropped while pending,
// and before they poll again with a waker that changed; code that polls
// PollRead directly and abandons a pending read calls it too.
type ReadCanceler interface {
	Reader
	CancelRead(w future.Waker)
}

// WriteCanceler is a Writer that remembers its pending writer. CancelWrite(w)
// withdraws the write, flush or close-write left pending by a poll with waker
// w, as CancelRead does for reads. It accepts and discards no bytes.
type WriteCanceler interface {
	Writer
	CancelWrite(w future.Waker)
}

// ReadWriter is a stream that reads and writes.
type ReadWriter interface {
	Reader
	Writer
}

// ErrBusy is the outcome of a read (or write) polled on a stream while
// another reader (writer) has one pending; see Reader. It is the reactor's
// error, so errors.Is matches it for sockets and in-memory streams alike.
var ErrBusy = executor.ErrBusy

// ErrLineTooLong is the outcome of BufReader.ReadLine when no line end comes
// within the buffer's size. The bytes stay buffered.
var ErrLineTooLong = errors.New("aio: line longer than the buffer")

// ErrNotSupported is the outcome of an operation the stream beneath does not
// provide, such as CloseWrite on a half of a stream that cannot half-close.
var ErrNotSupported = errors.New("aio: operation not supported by this stream")

// ErrNegativeSize is the outcome of a constructor given a negative buffer
// size.
var ErrNegativeSize = errors.New("aio: negative buffer size")

// newBuffer allocates the buffer of a constructor given size: def bytes for
// 0, ErrNegativeSize for a negative size.
func newBuffer(size, def int) ([]byte, error) {
	switch {
	case size < 0:
		return nil, ErrNegativeSize
	case size == 0:
		size = def
	}
	return make([]byte, size), nil
}

// Shorthands for the poll results used throughout the package.
type (
	pollN    = future.Poll[future.Result[int]]
	pollUnit = future.Poll[future.Result[struct{}]]
)

func readyN(n int) pollN          { return future.Ready(future.Ok(n)) }
func failN(err error) pollN       { return future.Ready(future.Fail[int](err)) }
func readyUnit() pollUnit         { return future.Ready(future.Ok(struct{}{})) }
func failUnit(err error) pollUnit { return future.Ready(future.Fail[struct{}](err)) }

// pendingSlot tracks the one pending reader (or writer) of a stream that
// answers ErrBusy. The caller holds the lock that guards the stream.
type pendingSlot struct {
	waker future.Waker
	taken bool
}

// enter reports whether a poll with waker w may proceed: no other poll is
// pending, or the pending one is w's (a repeat poll of the same reader). If
// so it frees the slot, which the poll takes again (park) if it must wait.
func (s *pendingSlot) enter(w future.Waker) bool {
	if s.taken && !s.waker.WillWake(w) {
		return false
	}
	*s = pendingSlot{}
	return true
}

// park records w as the pending poll's waker.
func (s *pendingSlot) park(w future.Waker) {
	s.waker = w
	s.taken = true
}

// wake frees the slot and returns the waker to call (outside the lock).
func (s *pendingSlot) wake() future.Waker {
	w := s.waker
	*s = pendingSlot{}
	return w
}

// cancel frees the slot if w is its waker.
func (s *pendingSlot) cancel(w future.Waker) {
	if s.taken && s.waker.WillWake(w) {
		*s = pendingSlot{}
	}
}
