package aio

import (
	"errors"
	"net"
	"sync"

	"github.com/libasync/libasync/executor"
	"github.com/libasync/libasync/future"
)

// view is what IOReader and IOWriter share: each call of the goroutine side
// runs one future as a task of the executor, whose services (the reactor a
// socket needs) are lent to it there, and waits for its JoinHandle.
type view struct {
	s      executor.Spawner
	mu     sync.Mutex
	call   interface{ Abort() } // the task of the call in progress, if any
	closed bool
}

// run spawns f on the view's executor and blocks until it completes. A
// second call while one is in progress fails with ErrBusy; a call cut short
// by Close fails with net.ErrClosed.
func run[T any](v *view, f future.Future[future.Result[T]]) future.Result[T] {
	v.mu.Lock()
	if v.closed {
		v.mu.Unlock()
		return future.Fail[T](net.ErrClosed)
	}
	if v.call != nil {
		v.mu.Unlock()
		return future.Fail[T](ErrBusy)
	}
	jh, err := executor.Spawn(v.s, f)
	if err != nil {
		v.mu.Unlock()
		return future.Fail[T](err)
	}
	v.call = jh
	v.mu.Unlock()
	// The task alone touches the caller's buffer, and it has finished (or
	// been dropped) before the JoinHandle is ready.
	res := future.BlockOn[future.Result[future.Result[T]]](jh)
	v.mu.Lock()
	v.call = nil
	closed := v.closed
	v.mu.Unlock()
	if res.Err != nil {
		if closed && errors.Is(res.Err, future.ErrAborted) {
			return future.Fail[T](net.ErrClosed)
		}
		return future.Fail[T](res.Err)
	}
	return res.Value
}

// Close closes the view: it cuts a call in progress short (the call returns
// net.ErrClosed) and makes later calls fail with net.ErrClosed. The aborted
// task drops its future, which withdraws its pending read or write, so the
// stream loses no bytes. The stream itself stays open. Close always
// returns nil.
func (v *view) Close() error {
	v.mu.Lock()
	v.closed = true
	call := v.call
	v.mu.Unlock()
	if call != nil {
		call.Abort()
	}
	return nil
}

// IOReader is an io.ReadCloser view of a Reader, for goroutine code: each
// Read runs a read of the stream as a task of an executor (which lends the
// task its reactor, as sockets need) and blocks the calling goroutine until
// it completes. Read reads straight into the caller's buffer.
//
// Read follows io.Reader: n > 0 bytes and no error, or 0 and an error
// (io.EOF at the end). One Read at a time: a concurrent one fails with
// ErrBusy. A Read must not be made from a task, nor from the goroutine that
// drives an executor.Local (it would wait for itself). If the executor shuts
// down during a Read, the Read fails with future.ErrClosed.
//
// Close cuts a Read in progress short (it returns net.ErrClosed, having
// consumed nothing from the stream) and makes later Reads fail with
// net.ErrClosed. It does not close the stream, which stays usable from
// tasks.
type IOReader struct {
	view
	r Reader
}

// NewIOReader returns an IOReader that reads r through tasks spawned on s.
func NewIOReader(s executor.Spawner, r Reader) *IOReader {
	return &IOReader{view: view{s: s}, r: r}
}

// Read reads from the stream into p, as io.Reader.
func (v *IOReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return run(&v.view, future.Future[future.Result[int]](Read(v.r, p))).Unwrap()
}

// IOWriter is an io.WriteCloser view of a Writer, for goroutine code: each
// Write runs WriteAll of the stream as a task of an executor, from the
// caller's buffer, and blocks until it completes.
//
// Write follows io.Writer: it returns len(p) and no error, or the number
// written and the error that stopped it. Flush flushes a stream that is a
// Flusher. One call at a time: a concurrent one fails with ErrBusy. Calls
// must not be made from a task, nor from the goroutine that drives an
// executor.Local. If the executor shuts down during a call, it fails with
// future.ErrClosed.
//
// Close cuts a call in progress short (it returns net.ErrClosed, a Write
// with the count it wrote before) and makes later calls fail with
// net.ErrClosed. It neither flushes nor closes the stream: Flush first when
// the stream buffers.
type IOWriter struct {
	view
	w Writer
}

// NewIOWriter returns an IOWriter that writes to w through tasks spawned on
// s.
func NewIOWriter(s executor.Spawner, w Writer) *IOWriter {
	return &IOWriter{view: view{s: s}, w: w}
}

// Write writes all of p to the stream, as io.Writer.
func (v *IOWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	f := WriteAll(v.w, p)
	if res := run(&v.view, future.Future[future.Result[int]](f)); res.Err != nil {
		// The task finished or was dropped before run returned: N is
		// settled, and counts the bytes the stream accepted.
		return f.N(), res.Err
	}
	return len(p), nil
}

// Flush waits until the stream delivered every byte written before (see
// Flusher).
func (v *IOWriter) Flush() error {
	return run(&v.view, future.Future[future.Result[struct{}]](Flush(v.w))).Err
}
