// Package wakefd provides wake-up descriptors: a descriptor that any
// goroutine makes readable, so that a thread blocked in poll(2), epoll,
// kqueue or select on it returns. It is an eventfd on Linux, a pipe on the
// other unix systems, and a connected pair of loopback TCP sockets on
// Windows, whose WSAPoll and select wait on sockets only.
//
// The readiness drivers that have no wake-up of their own wait on one, and
// capi/ffi's Notifier hands one to a host's event loop.
package wakefd

import (
	"sync"
	"sync/atomic"

	"github.com/libasync/libasync/driver"
)

// FD is a wake-up descriptor: readable from a Wake until the next Drain.
// Wake is safe from any goroutine, also while the FD is being closed; Drain
// and Close belong to its owner, who does not call them concurrently.
type FD struct {
	sys descriptor
	// pending is set by the Wake that writes and cleared by the Drain that
	// reads, so that the Wakes in between make no system call. Go's atomics
	// are sequentially consistent, which the argument in Drain needs.
	pending atomic.Bool
	// closed is stored under mu's write lock. A Wake that writes holds the
	// read lock and checks it again there, so Close never closes the
	// descriptor under a write (its number could be reused by then).
	closed atomic.Bool
	mu     sync.RWMutex
}

// descriptor is the system's side of an FD.
type descriptor interface {
	// fd is the descriptor that turns readable.
	fd() driver.FD
	// signal makes fd readable; a full buffer is no error, as fd is
	// readable then.
	signal() error
	// drain reads fd until it would block.
	drain()
	close() error
}

// New returns a wake-up descriptor that is not readable. It is non-blocking,
// and child processes do not inherit it.
func New() (*FD, error) {
	d, err := open()
	if err != nil {
		return nil, err
	}
	return &FD{sys: d}, nil
}

// Fd returns the descriptor to wait on for readability: on Windows a
// SOCKET.
func (w *FD) Fd() driver.FD { return w.sys.fd() }

// Wake makes the descriptor readable until the next Drain. Wakes between two
// Drains coalesce: only the first makes a system call. After Close it
// returns driver.ErrClosed.
func (w *FD) Wake() error {
	if w.closed.Load() {
		return driver.ErrClosed
	}
	if w.pending.Load() || !w.pending.CompareAndSwap(false, true) {
		return nil
	}
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed.Load() {
		w.pending.Store(false)
		return driver.ErrClosed
	}
	if err := w.sys.signal(); err != nil {
		w.pending.Store(false)
		return err
	}
	return nil
}

// Drain makes the descriptor not readable, until the next Wake. A Wake that
// runs while Drain does may have found the write being drained and made
// none, so the owner acts on every Wake begun before Drain returned (a
// driver's Wait returns); a Wake after that writes again.
func (w *FD) Drain() {
	// Read first, then clear pending: a Wake that finds pending still set
	// (between the two) is served by the write just read; one that runs
	// after the Store sets it again and writes. Either way none is lost.
	w.sys.drain()
	w.pending.Store(false)
}

// Close closes the descriptor. A second Close returns driver.ErrClosed.
func (w *FD) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed.Load() {
		return driver.ErrClosed
	}
	w.closed.Store(true)
	return w.sys.close()
}
