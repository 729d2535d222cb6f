// Package testkit holds what the tests and benchmarks of several packages
// share: a Wakeable that counts its wakes, and the memory figure of the
// pending-task benchmarks. It imports nothing of this module, so that any
// package's tests may use it, package future's included.
package testkit

import (
	"runtime"
	"sync/atomic"
)

// WakeCounter is a Wakeable (see package future) that counts its wakes. The
// count orders nothing else: tests read it after synchronising with the
// wakers, or on the same goroutine, so atomicity alone suffices.
type WakeCounter struct{ n atomic.Int64 }

// Wake counts one wake.
func (w *WakeCounter) Wake() { w.n.Add(1) }

// Count returns the wakes so far.
func (w *WakeCounter) Count() int64 { return w.n.Load() }

// Reset sets the count back to zero.
func (w *WakeCounter) Reset() { w.n.Store(0) }

// MemInUse returns the heap plus goroutine stacks in use, after two full
// collections.
func MemInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc + m.StackInuse
}
