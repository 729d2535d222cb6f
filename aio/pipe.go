package aio

import (
	"io"
	"net"
	"sync"

	"github.com/libasync/libasync/future"
)

// Pipe returns the two ends of an in-memory byte pipe with a buffer of size
// bytes (DefaultBufSize when size is 0; a negative size is
// ErrNegativeSize): what is written to the PipeWriter is read from the
// PipeReader. A write waits while the buffer is full, a read while it is
// empty; neither allocates. The ends may be used from two tasks, or from
// any goroutines, at once; each end serves one task at a time and answers a
// second one ErrBusy, as the Reader and Writer contracts ask. It is the
// in-process stream to test protocol code with, and the reference
// implementation of those contracts.
func Pipe(size int) (*PipeReader, *PipeWriter, error) {
	buf, err := newBuffer(size, DefaultBufSize)
	if err != nil {
		return nil, nil, err
	}
	p := &pipe{buf: buf}
	return &PipeReader{p}, &PipeWriter{p}, nil
}

// pipe is the state the two ends share, under mu.
type pipe struct {
	mu      sync.Mutex
	buf     []byte // a ring: buf[head:head+n], wrapping
	head, n int
	rslot   pendingSlot // the waiting reader: woken when bytes come or the writer closes
	wslot   pendingSlot // the waiting writer: woken when room comes or the reader closes
	wclosed bool        // no more bytes will come: the reader gets io.EOF once drained
	rclosed bool        // no more bytes will be read: writes fail
}

// PipeReader is the reading end of a Pipe: a Reader and a ReadCanceler.
type PipeReader struct{ p *pipe }

// PollRead reads buffered bytes, waits for some, or gives io.EOF once the
// writer closed and the buffer is drained. After the reader's own Close it
// gives net.ErrClosed.
func (r *PipeReader) PollRead(cx *future.Context, b []byte) future.Poll[future.Result[int]] {
	p := r.p
	p.mu.Lock()
	switch {
	case p.rclosed:
		p.mu.Unlock()
		return failN(net.ErrClosed)
	case !p.rslot.enter(cx.Waker()):
		p.mu.Unlock()
		return failN(ErrBusy)
	}
	switch {
	case len(b) == 0:
		p.mu.Unlock()
		return readyN(0)
	case p.n == 0 && p.wclosed:
		p.mu.Unlock()
		return failN(io.EOF)
	case p.n == 0:
		p.rslot.park(cx.Waker())
		p.mu.Unlock()
		return future.Pending[future.Result[int]]()
	}
	n := copy(b, p.buf[p.head:min(p.head+p.n, len(p.buf))])
	if n < len(b) && n < p.n {
		n += copy(b[n:], p.buf[:p.n-n])
	}
	p.head = (p.head + n) % len(p.buf)
	p.n -= n
	w := p.wslot.wake()
	p.mu.Unlock()
	w.Wake()
	return readyN(n)
}

// CancelRead withdraws the pending read made with waker w.
func (r *PipeReader) CancelRead(w future.Waker) {
	r.p.mu.Lock()
	r.p.rslot.cancel(w)
	r.p.mu.Unlock()
}

// Close closes the reading end: the buffered bytes are discarded, later
// reads give net.ErrClosed, and writes (pending ones too) fail with
// io.ErrClosedPipe, as with io.Pipe. It always returns nil.
func (r *PipeReader) Close() error {
	p := r.p
	p.mu.Lock()
	p.rclosed = true
	p.n = 0
	rw, ww := p.rslot.wake(), p.wslot.wake()
	p.mu.Unlock()
	rw.Wake()
	ww.Wake()
	return nil
}

// PipeWriter is the writing end of a Pipe: a Writer, a CloseWriter and a
// WriteCanceler. It is no Flusher: a byte it accepted is in the buffer, where
// the reader gets it.
type PipeWriter struct{ p *pipe }

// PollWrite copies as much of b as fits into the buffer, or waits for room.
// After the writer's CloseWrite or Close it fails with net.ErrClosed, after
// the reader's Close with io.ErrClosedPipe.
func (w *PipeWriter) PollWrite(cx *future.Context, b []byte) future.Poll[future.Result[int]] {
	p := w.p
	p.mu.Lock()
	switch {
	case p.wclosed:
		p.mu.Unlock()
		return failN(net.ErrClosed)
	case p.rclosed:
		p.mu.Unlock()
		return failN(io.ErrClosedPipe)
	case !p.wslot.enter(cx.Waker()):
		p.mu.Unlock()
		return failN(ErrBusy)
	}
	switch {
	case len(b) == 0:
		p.mu.Unlock()
		return readyN(0)
	case p.n == len(p.buf):
		p.wslot.park(cx.Waker())
		p.mu.Unlock()
		return future.Pending[future.Result[int]]()
	}
	tail := (p.head + p.n) % len(p.buf)
	room := len(p.buf) - p.n
	n := copy(p.buf[tail:min(tail+room, len(p.buf))], b)
	if n < len(b) && n < room {
		n += copy(p.buf[:room-n], b[n:])
	}
	p.n += n
	rw := p.rslot.wake()
	p.mu.Unlock()
	rw.Wake()
	return readyN(n)
}

// PollCloseWrite closes the writing end: the reader gets the buffered bytes,
// then io.EOF. It is Ready at once (nothing is held back) and always
// succeeds; closing again does nothing.
func (w *PipeWriter) PollCloseWrite(*future.Context) future.Poll[future.Result[struct{}]] {
	w.Close()
	return readyUnit()
}

// Close is PollCloseWrite for callers outside a task. It always returns nil.
func (w *PipeWriter) Close() error {
	p := w.p
	p.mu.Lock()
	p.wclosed = true
	rw, ww := p.rslot.wake(), p.wslot.wake()
	p.mu.Unlock()
	rw.Wake()
	ww.Wake()
	return nil
}

// CancelWrite withdraws the pending write made with waker w.
func (w *PipeWriter) CancelWrite(wk future.Waker) {
	w.p.mu.Lock()
	w.p.wslot.cancel(wk)
	w.p.mu.Unlock()
}

// Duplex returns two connected in-memory streams, as a socket pair: what is
// written to one is read from the other, through a Pipe of size bytes each
// way. Each stream meets Split's requirement (one reader and one writer at
// once).
func Duplex(size int) (*DuplexStream, *DuplexStream, error) {
	ar, bw, err := Pipe(size)
	if err != nil {
		return nil, nil, err
	}
	br, aw, _ := Pipe(size)
	return &DuplexStream{ar, aw}, &DuplexStream{br, bw}, nil
}

// DuplexStream is one end of a Duplex: a Reader, Writer, CloseWriter,
// ReadCanceler and WriteCanceler.
type DuplexStream struct {
	r *PipeReader
	w *PipeWriter
}

// PollRead reads what the other end wrote, as PipeReader.PollRead.
func (d *DuplexStream) PollRead(cx *future.Context, b []byte) future.Poll[future.Result[int]] {
	return d.r.PollRead(cx, b)
}

// CancelRead withdraws the pending read made with waker w.
func (d *DuplexStream) CancelRead(w future.Waker) { d.r.CancelRead(w) }

// PollWrite writes for the other end to read, as PipeWriter.PollWrite.
func (d *DuplexStream) PollWrite(cx *future.Context, b []byte) future.Poll[future.Result[int]] {
	return d.w.PollWrite(cx, b)
}

// PollCloseWrite closes this end's writing direction: the other end reads
// io.EOF after the buffered bytes, and this end goes on reading.
func (d *DuplexStream) PollCloseWrite(cx *future.Context) future.Poll[future.Result[struct{}]] {
	return d.w.PollCloseWrite(cx)
}

// CancelWrite withdraws the pending write made with waker w.
func (d *DuplexStream) CancelWrite(w future.Waker) { d.w.CancelWrite(w) }

// Close closes both directions of this end: the other end reads io.EOF
// after what was buffered for it, and its writes fail with
// io.ErrClosedPipe. It always returns nil.
func (d *DuplexStream) Close() error {
	d.w.Close()
	return d.r.Close()
}
