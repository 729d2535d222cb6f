//go:build (darwin || linux || netbsd || windows) && (amd64 || arm64)

package ffi

import (
	"sync"

	"github.com/libasync/libasync/future"
)

// Foreign is a host's future: a C poll function, an optional drop function
// and an opaque state, run as a future.Future of its uint64 output. A poll
// returning ASYNC_OK yields the output; a code of -100 or below fails with
// an *Error of that code; any other code fails with EINVAL. The drop
// function is called exactly once: when the future completes or fails, or
// when it is dropped unfinished (future.Drop, an abort, an executor's
// shutdown).
//
// The waker given to the host is runtime-made: its data is a KindTaskWaker
// handle of the Foreign that wakes the polling task, released when the
// future ends, after which the host's copies do nothing.
//
// A Foreign is used by pointer; its zero value is not ready for use: make
// one with NewForeign, or hold one by value and call Reset (which saves an
// allocation).
type Foreign struct {
	poll, drop, state uintptr
	th                Handle
	// frame is what a poll passes to the host by address, allocated by
	// the first poll: in the heap, so the addresses stay put while the
	// host runs (a goroutine's stack may move), and apart from the
	// Foreign, because cgo's pointer check rejects the address of memory
	// in an object that holds Go pointers.
	frame *pollFrame
	done  bool

	// mu guards waker, which the poll that sees a new waker replaces and
	// wakes from any thread read.
	mu    sync.Mutex
	waker future.Waker
}

// pollFrame holds no pointer into the Go heap (its vtable is C memory under
// libasync.so), so cgo's pointer check accepts its address.
type pollFrame struct {
	w   Waker
	out uint64
}

// NewForeign wraps a host future. poll must not be 0; drop may be.
func NewForeign(poll, drop, state uintptr) (*Foreign, error) {
	f := new(Foreign)
	if err := f.Reset(poll, drop, state); err != nil {
		return nil, err
	}
	return f, nil
}

// Reset makes f the future of a new host state machine; f must not be in
// use (never polled, or ended).
func (f *Foreign) Reset(poll, drop, state uintptr) error {
	if poll == 0 {
		return Errorf(EINVAL, "libasync: poll function is NULL")
	}
	*f = Foreign{poll: poll, drop: drop, state: state}
	return nil
}

// wake wakes the task that polls f.
func (f *Foreign) wake() {
	f.mu.Lock()
	w := f.waker
	f.mu.Unlock()
	w.Wake()
}

// Poll calls the host's poll function once.
func (f *Foreign) Poll(cx *future.Context) future.Poll[future.Result[uint64]] {
	if f.done {
		return future.Ready(future.Fail[uint64](Errorf(EINVAL, "libasync: foreign future polled after it ended")))
	}
	if f.th == 0 {
		h, err := Handles.Insert(KindTaskWaker, f)
		if err != nil {
			f.finish()
			return future.Ready(future.Fail[uint64](err))
		}
		f.th = h
		f.frame = &pollFrame{w: Waker{Data: uintptr(h), VTable: RuntimeVTable()}}
	}
	if w := cx.Waker(); !f.waker.WillWake(w) {
		f.mu.Lock()
		f.waker = w
		f.mu.Unlock()
	}
	fr := f.frame
	fr.out = 0
	code := host().Poll(f.poll, f.state, &fr.w, &fr.out)
	switch {
	case code == Pending:
		return future.Pending[future.Result[uint64]]()
	case code == OK:
		v := fr.out
		f.finish()
		return future.Ready(future.Ok(v))
	case code <= HostCodeMax:
		f.finish()
		return future.Ready(future.Fail[uint64](Errorf(code, "libasync: the task's poll failed with code %d", code)))
	default:
		f.finish()
		return future.Ready(future.Fail[uint64](Errorf(EINVAL, "libasync: the task's poll returned %d, a code reserved for libasync", code)))
	}
}

// Drop abandons an unfinished future: the host's drop function is called,
// unless it already was.
func (f *Foreign) Drop() { f.finish() }

// finish releases the waker handle and calls drop, once.
func (f *Foreign) finish() {
	if f.done {
		return
	}
	f.done = true
	if f.th != 0 {
		Handles.Remove(f.th)
	}
	f.mu.Lock()
	f.waker = future.Waker{}
	f.mu.Unlock()
	if f.drop != 0 {
		host().Call1(f.drop, f.state)
	}
}
