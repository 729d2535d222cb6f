//go:build (linux || darwin || netbsd || windows) && (amd64 || arm64) && cgo

package main

/*
#include "shim.h"
*/
import "C"

import (
	"errors"
	"io"
	"unsafe"

	"github.com/libasync/libasync/capi/ffi"
	"github.com/libasync/libasync/future"
)

// The polls of streams and listeners do their I/O on the calling thread,
// with no future and no handle per operation: a connection that reads and
// writes in a loop makes one call per operation. A poll that finds nothing
// to do leaves a clone of the caller's waker with the stream or listener
// (one per direction, in a HostWaker that a later poll with an equal waker
// keeps), woken when the direction is ready; a NULL waker only tries.

// checkWaker validates a waker argument of the ABI (NULL is the caller's
// to allow or refuse).
func checkWaker(name string, waker unsafe.Pointer) (*ffi.Waker, error) {
	if waker == nil {
		return nil, nil
	}
	w := (*ffi.Waker)(waker)
	if w.VTable == nil || w.VTable.Clone == 0 || w.VTable.Wake == 0 || w.VTable.WakeByRef == 0 || w.VTable.Drop == 0 {
		return nil, ffi.Errorf(ffi.EINVAL, "libasync: %s: the waker's vtable or one of its functions is NULL", name)
	}
	return w, nil
}

// pollContext makes cx the context of a poll on the calling thread: its
// waker is hw, holding a clone of w, or the no-op waker when w is nil (a
// no-op waker leaves no waiter behind in the reactor).
func pollContext(cx *future.Context, hw *ffi.HostWaker, w *ffi.Waker, services any) {
	if w == nil {
		cx.Reset(future.NoopWaker(), services)
		return
	}
	hw.Set(w)
	cx.Reset(future.WakerFor(hw), services)
}

// async_stream_poll_read reads what the stream holds, on the calling thread.
//
//export async_stream_poll_read
func async_stream_poll_read(sh C.uint64_t, buf unsafe.Pointer, n C.size_t, waker unsafe.Pointer, out *C.size_t) (rc C.int32_t) {
	defer guard(&rc)
	s, err := liveStream(sh)
	if err != nil {
		return fail(err)
	}
	if err := checkBuf("async_stream_poll_read", buf, n, out == nil); err != nil {
		return fail(err)
	}
	w, err := checkWaker("async_stream_poll_read", waker)
	if err != nil {
		return fail(err)
	}
	s.mu.Lock()
	reading := s.reading
	s.mu.Unlock()
	if reading {
		return failf(ffi.EINVAL, "libasync: async_stream_poll_read: a read future is pending on this stream")
	}
	var cx future.Context
	pollContext(&cx, &s.readWaker, w, s.rt.ex)
	v, ok := s.s.PollRead(&cx, hostBytes(buf, n)).Value()
	switch {
	case !ok:
		return C.int32_t(ffi.Pending)
	case errors.Is(v.Err, io.EOF):
		*out = 0
	case v.Err != nil:
		return fail(ioError(v.Err))
	default:
		*out = C.size_t(v.Value)
	}
	return C.int32_t(ffi.OK)
}

// async_stream_poll_write writes what the stream takes, on the calling
// thread.
//
//export async_stream_poll_write
func async_stream_poll_write(sh C.uint64_t, buf unsafe.Pointer, n C.size_t, waker unsafe.Pointer, out *C.size_t) (rc C.int32_t) {
	defer guard(&rc)
	s, err := liveStream(sh)
	if err != nil {
		return fail(err)
	}
	if err := checkBuf("async_stream_poll_write", buf, n, out == nil); err != nil {
		return fail(err)
	}
	w, err := checkWaker("async_stream_poll_write", waker)
	if err != nil {
		return fail(err)
	}
	written, err := s.pollWrite("async_stream_poll_write", hostBytes(buf, n), w)
	if err != nil {
		return fail(err)
	}
	if written == 0 {
		return C.int32_t(ffi.Pending)
	}
	*out = C.size_t(written)
	return C.int32_t(ffi.OK)
}

// pollWrite writes what the stream takes from p on the calling thread:
// 0 bytes when it takes none (then w, if any, is woken when it has room).
func (s *streamObj) pollWrite(name string, p []byte, w *ffi.Waker) (int, error) {
	// Marked writing for the call, so that a write future made meanwhile
	// on another thread is refused as a second pending write would be,
	// and bytes never interleave.
	if err := s.claimWrite(name); err != nil {
		return 0, err
	}
	defer s.endWrite()
	var cx future.Context
	pollContext(&cx, &s.writeWaker, w, s.rt.ex)
	v, ok := s.s.PollWrite(&cx, p).Value()
	switch {
	case !ok:
		return 0, nil
	case v.Err != nil:
		return 0, ioError(v.Err)
	}
	return v.Value, nil
}

// async_tcp_poll_accept takes the next connection off a listener's queue,
// on the calling thread.
//
//export async_tcp_poll_accept
func async_tcp_poll_accept(lh C.uint64_t, waker unsafe.Pointer, out *C.uint64_t) (rc C.int32_t) {
	defer guard(&rc)
	l, err := lookup[*listenerObj](lh, ffi.KindListener, "listener")
	if err != nil {
		return fail(err)
	}
	if l.rt.isClosed() {
		return fail(errRuntimeClosed)
	}
	if out == nil {
		return failf(ffi.EINVAL, "libasync: async_tcp_poll_accept: out is NULL")
	}
	w, err := checkWaker("async_tcp_poll_accept", waker)
	if err != nil {
		return fail(err)
	}
	l.mu.Lock()
	accepting := l.accepting
	l.mu.Unlock()
	if accepting {
		return failf(ffi.EINVAL, "libasync: async_tcp_poll_accept: an accept future is pending on this listener")
	}
	var cx future.Context
	pollContext(&cx, &l.acceptWaker, w, l.rt.ex)
	v, ok := l.l.PollAccept(&cx).Value()
	if !ok {
		return C.int32_t(ffi.Pending)
	}
	r := streamResult(l.rt, v)
	if r.code != ffi.OK {
		return deliver(r, out)
	}
	*out = C.uint64_t(r.val)
	return C.int32_t(ffi.OK)
}
