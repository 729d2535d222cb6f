//go:build (darwin || linux || netbsd) && (amd64 || arm64)

package ffi

import (
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
// handle that wakes the polling task, released when the future ends, after
// which the host's copies do nothing.
type Foreign struct {
	poll, drop, state uintptr
	tw                *taskWaker
	th                Handle
	frame             *pollFrame
	done              bool
}

// pollFrame holds what a poll passes to the host by address. It lives in
// the heap, so the addresses stay put while the host runs (a goroutine's
// stack may move), and holds no Go pointer, so cgo's pointer check accepts
// it.
type pollFrame struct {
	w   Waker
	out uint64
}

// NewForeign wraps a host future. poll must not be 0; drop may be.
func NewForeign(poll, drop, state uintptr) (*Foreign, error) {
	if poll == 0 {
		return nil, Errorf(EINVAL, "libasync: poll function is NULL")
	}
	return &Foreign{poll: poll, drop: drop, state: state}, nil
}

// Poll calls the host's poll function once.
func (f *Foreign) Poll(cx *future.Context) future.Poll[future.Result[uint64]] {
	if f.done {
		return future.Ready(future.Fail[uint64](Errorf(EINVAL, "libasync: foreign future polled after it ended")))
	}
	if f.tw == nil {
		tw := &taskWaker{}
		h, err := Handles.Insert(KindTaskWaker, tw)
		if err != nil {
			f.finish()
			return future.Ready(future.Fail[uint64](err))
		}
		f.tw, f.th = tw, h
		f.frame = &pollFrame{w: Waker{Data: uintptr(h), VTable: RuntimeVTable()}}
	}
	f.tw.set(cx.Waker())
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
	if f.tw != nil {
		Handles.Remove(f.th)
	}
	if f.drop != 0 {
		host().Call1(f.drop, f.state)
	}
}
