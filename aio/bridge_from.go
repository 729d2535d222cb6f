package aio

import (
	"io"
	"net"
	"sync"

	"github.com/libasync/libasync/future"
)

// DefaultBridgeBuffer is the buffer size of a ReadBridge or WriteBridge made
// with a size of zero.
const DefaultBridgeBuffer = 32 << 10

// worker is the goroutine of a bridge: started at the first operation that
// needs it, it runs one blocking call per request and exits once the bridge
// is closed; Close waits for it, so it never outlives Close.
type worker struct {
	run     func()        // the blocking call, set once by the constructor
	req     chan struct{} // one request at a time; closed by Close
	done    chan struct{} // closed when the goroutine returns
	started bool
}

// kick asks the goroutine, starting it if needed, to run one call. The
// caller holds the bridge's lock and has checked that the bridge is open and
// no call is in flight, so the send never blocks.
func (k *worker) kick() {
	if !k.started {
		k.started = true
		k.req = make(chan struct{}, 1)
		k.done = make(chan struct{})
		go func() {
			defer close(k.done)
			for range k.req {
				k.run()
			}
		}()
	}
	k.req <- struct{}{}
}

// stop ends the goroutine after its current call and waits for it. The
// caller has marked the bridge closed under its lock, so no kick follows.
func (k *worker) stop() {
	if k.started {
		close(k.req)
		<-k.done
	}
}

// closeIfCloser closes v when it is an io.Closer.
func closeIfCloser(v any) error {
	if c, ok := v.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// bridge is what ReadBridge and WriteBridge share: the lock over their
// state, the one pending poll, the closed flag and the goroutine.
type bridge struct {
	mu     sync.Mutex
	closed bool
	slot   pendingSlot
	worker worker
}

// enter admits a poll made with cx, under mu: net.ErrClosed after Close,
// ErrBusy while another poll waits; otherwise it ends this poller's previous
// wait, if any, and returns nil.
func (b *bridge) enter(cx *future.Context) error {
	switch {
	case b.closed:
		return net.ErrClosed
	case !b.slot.enter(cx.Waker()):
		return ErrBusy
	}
	return nil
}

// cancel withdraws the pending poll made with waker w.
func (b *bridge) cancel(w future.Waker) {
	b.mu.Lock()
	b.slot.cancel(w)
	b.mu.Unlock()
}

// shut closes the bridge: later and pending polls get net.ErrClosed, the
// blocking value v is closed when it is an io.Closer, and the goroutine is
// waited for. It returns the error of closing v, or nil when already shut.
func (b *bridge) shut(v any) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	w := b.slot.wake()
	b.mu.Unlock()
	w.Wake()
	err := closeIfCloser(v)
	b.worker.stop()
	return err
}

// ReadBridge is a Reader over a blocking io.Reader: the blocking Read calls
// run on a goroutine of the bridge, never on the executor, into the bridge's
// buffer.
//
// A read that has to wait starts one Read of the io.Reader (none is started
// before a reader asks) and returns Pending. Bytes the goroutine gets stay
// in the bridge until a read takes them: dropping a pending read loses
// nothing, the next read gets them. The first error of the io.Reader, io.EOF
// included, comes after the bytes read before it and ends the stream: every
// later read gives it. A Read that returns (0, nil) is retried; 100 in a row
// end the stream with io.ErrNoProgress. A second reader gets ErrBusy.
//
// The bridge owns the io.Reader. Close closes it when it is an io.Closer
// (which is how a blocked Read is cut short), waits for the goroutine to
// return, and makes every later or pending read fail with net.ErrClosed.
// Over an io.Reader that is not an io.Closer, Close waits for a Read in
// flight to return. Call Close once the bridge has been read: its goroutine
// lives until then.
type ReadBridge struct {
	bridge
	r          io.Reader
	buf        []byte
	rpos, wpos int   // buf[rpos:wpos] is read and not yet taken
	err        error // the io.Reader's error, given once buf is drained
	inflight   bool  // the goroutine is in r.Read, writing into buf
}

// FromReader returns a ReadBridge over r with a buffer of size bytes
// (DefaultBridgeBuffer when size is 0). A negative size is ErrNegativeSize.
func FromReader(r io.Reader, size int) (*ReadBridge, error) {
	buf, err := newBuffer(size, DefaultBridgeBuffer)
	if err != nil {
		return nil, err
	}
	b := &ReadBridge{r: r, buf: buf}
	b.worker.run = b.fill
	return b, nil
}

// maxEmptyReads is how many reads in a row may return (0, nil), which
// io.Reader allows to mean that nothing happened, before the bridge gives up
// on the reader with io.ErrNoProgress (bufio.Reader's limit too).
const maxEmptyReads = 100

// fill runs on the goroutine: a blocking Read into the buffer, which no poll
// touches while inflight is set, repeated while it returns (0, nil).
func (b *ReadBridge) fill() {
	var n int
	var err error
	for range maxEmptyReads {
		if n, err = b.r.Read(b.buf); n > 0 || err != nil {
			break
		}
	}
	b.mu.Lock()
	b.inflight = false
	b.rpos, b.wpos = 0, n
	if err == nil && n == 0 {
		err = io.ErrNoProgress
	}
	if err != nil && b.err == nil {
		b.err = err
	}
	w := b.slot.wake()
	b.mu.Unlock()
	w.Wake()
}

// PollRead reads what the goroutine has read, or starts a Read and waits.
func (b *ReadBridge) PollRead(cx *future.Context, p []byte) future.Poll[future.Result[int]] {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.enter(cx); err != nil {
		return failN(err)
	}
	switch {
	case len(p) == 0:
		return readyN(0)
	case !b.inflight && b.rpos < b.wpos:
		n := copy(p, b.buf[b.rpos:b.wpos])
		b.rpos += n
		return readyN(n)
	case !b.inflight && b.err != nil:
		return failN(b.err)
	case !b.inflight:
		b.inflight = true
		b.worker.kick()
	}
	b.slot.park(cx.Waker())
	return future.Pending[future.Result[int]]()
}

// CancelRead withdraws the pending read made with waker w; a Read in flight
// goes on and its bytes are kept for the next read.
func (b *ReadBridge) CancelRead(w future.Waker) { b.cancel(w) }

// Close closes the bridge as described on ReadBridge, and returns the error
// of closing the io.Reader. Closing again does nothing and returns nil.
func (b *ReadBridge) Close() error { return b.shut(b.r) }

// WriteBridge is a Writer over a blocking io.Writer: the blocking Write calls
// run on a goroutine of the bridge, never on the executor.
//
// PollWrite copies bytes into the bridge's buffer, hands them to the
// goroutine and returns Ready at once: the bridge writes behind, one buffer
// at a time, and a PollWrite made while a Write is in flight waits for it.
// PollFlush completes once every accepted byte was written (and, when the
// io.Writer has a Flush() error method, as bufio.Writer does, flushed).
//
// Failure: the first error of the io.Writer is kept and returned by every
// later PollWrite and PollFlush; Unwritten returns the accepted bytes that
// the io.Writer did not take, so none are lost silently. A second writer
// gets ErrBusy.
//
// The bridge owns the io.Writer. Close closes it when it is an io.Closer
// (cutting a blocked Write short; flush first to deliver everything), waits
// for the goroutine to return (for a Write in flight to return, over an
// io.Writer that is not an io.Closer), and makes every later or pending operation
// fail with net.ErrClosed. Call Close once done: the goroutine lives until
// then.
type WriteBridge struct {
	bridge
	w        io.Writer
	buf      []byte
	n        int  // buf[:n] is handed to the goroutine
	written  int  // of which buf[:written] was written
	flush    bool // the goroutine's call is a Flush, not a Write
	inflight bool // the goroutine is in a call
	flushed  bool // nothing was written since the last Flush
	err      error
}

// FromWriter returns a WriteBridge over w with a buffer of size bytes
// (DefaultBridgeBuffer when size is 0). A negative size is ErrNegativeSize.
func FromWriter(w io.Writer, size int) (*WriteBridge, error) {
	buf, err := newBuffer(size, DefaultBridgeBuffer)
	if err != nil {
		return nil, err
	}
	b := &WriteBridge{w: w, buf: buf, flushed: true}
	b.worker.run = b.run
	return b, nil
}

// flusher is what bufio.Writer and similar blocking writers provide.
type flusher interface{ Flush() error }

// run is the goroutine's call: a Write of buf[:n] or a Flush. No poll
// touches buf while inflight is set.
func (b *WriteBridge) run() {
	var n int
	var err error
	if b.flush {
		err = b.w.(flusher).Flush()
	} else {
		n, err = b.w.Write(b.buf[:b.n])
		if err == nil && n < b.n {
			err = io.ErrShortWrite
		}
	}
	b.mu.Lock()
	b.inflight = false
	b.written = n
	if err != nil && b.err == nil {
		b.err = err
	}
	if err == nil {
		b.n, b.written = 0, 0
		b.flushed = b.flush
	}
	w := b.slot.wake()
	b.mu.Unlock()
	w.Wake()
}

// admit admits a write-side poll. It reports wait (the poll returns Pending:
// a call is in flight, and the slot now holds cx's waker), or an error to
// return at once; with neither, the caller goes on.
func (b *WriteBridge) admit(cx *future.Context) (wait bool, err error) {
	if err := b.enter(cx); err != nil {
		return false, err
	}
	if b.inflight {
		b.slot.park(cx.Waker())
		return true, nil
	}
	return false, b.err
}

// PollWrite accepts up to the buffer's size from p and writes it behind.
func (b *WriteBridge) PollWrite(cx *future.Context, p []byte) future.Poll[future.Result[int]] {
	b.mu.Lock()
	defer b.mu.Unlock()
	wait, err := b.admit(cx)
	switch {
	case wait:
		return future.Pending[future.Result[int]]()
	case err != nil:
		return failN(err)
	case len(p) == 0:
		return readyN(0)
	}
	b.n = copy(b.buf, p)
	b.flush, b.flushed, b.inflight = false, false, true
	b.worker.kick()
	return readyN(b.n)
}

// PollFlush waits until the accepted bytes are written and, for an
// io.Writer with a Flush method, flushed.
func (b *WriteBridge) PollFlush(cx *future.Context) future.Poll[future.Result[struct{}]] {
	b.mu.Lock()
	defer b.mu.Unlock()
	wait, err := b.admit(cx)
	switch {
	case wait:
		return future.Pending[future.Result[struct{}]]()
	case err != nil:
		return failUnit(err)
	}
	if _, can := b.w.(flusher); !can || b.flushed {
		return readyUnit()
	}
	b.flush, b.inflight = true, true
	b.worker.kick()
	b.slot.park(cx.Waker())
	return future.Pending[future.Result[struct{}]]()
}

// CancelWrite withdraws the pending write or flush made with waker w; a call
// in flight goes on.
func (b *WriteBridge) CancelWrite(w future.Waker) { b.cancel(w) }

// Unwritten returns the accepted bytes the io.Writer did not take because
// it failed (none while it has not failed). The slice is the bridge's; it
// stays valid, since a failed bridge accepts no more bytes.
func (b *WriteBridge) Unwritten() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err == nil || b.inflight {
		return nil
	}
	return b.buf[b.written:b.n]
}

// Close closes the bridge as described on WriteBridge, and returns the error
// of closing the io.Writer. Closing again does nothing and returns nil.
func (b *WriteBridge) Close() error { return b.shut(b.w) }
