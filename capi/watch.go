//go:build (linux || darwin || netbsd || windows) && (amd64 || arm64) && cgo

package main

/*
#include "shim.h"
*/
import "C"

import (
	"errors"
	"math"
	"runtime"
	"sync"
	"unsafe"

	"github.com/libasync/libasync/capi/ffi"
	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/socket"
)

// The event bits of async_fd_poll and async_fd_ready.
const (
	fdReadable = 1 << 0 // ASYNC_READABLE
	fdWritable = 1 << 1 // ASYNC_WRITABLE
)

// driverFDIsInt says descriptors are ints (unix), not SOCKET handles.
const driverFDIsInt = runtime.GOOS != "windows"

// watchDirs are the directions of a watch, in the order of its fields.
var watchDirs = [2]struct {
	bit uint32
	dir driver.Interest
}{{fdReadable, driver.Read}, {fdWritable, driver.Write}}

// watchObj is the object behind a KindWatch handle: a descriptor the host
// keeps, on its runtime's reactor.
type watchObj struct {
	rt *runtimeObj
	fd *socket.FD

	mu sync.Mutex
	// waiting marks the directions a future of async_fd_ready waits on
	// (the reactor serves one waiter per direction).
	waiting [2]bool

	// wakers hold the wakers of the last async_fd_poll, per direction.
	wakers [2]ffi.HostWaker
}

func (w *watchObj) dropWakers() {
	w.wakers[0].Clear()
	w.wakers[1].Clear()
}

func (w *watchObj) runtime() *runtimeObj { return w.rt }

// cancelPoll withdraws the reactor wait that polls left on direction i
// (their waker is future.WakerFor the direction's HostWaker, see
// pollContext) and drops the clone behind it.
func (w *watchObj) cancelPoll(i int) {
	wk := future.WakerFor(&w.wakers[i])
	if watchDirs[i].dir == driver.Read {
		w.fd.CancelRead(wk)
	} else {
		w.fd.CancelWrite(wk)
	}
	w.wakers[i].Clear()
}

func (w *watchObj) close() error { return w.fd.Close() }

// liveWatch returns the watch of h, failing with ECLOSED once its runtime
// closed.
func liveWatch(h C.uint64_t) (*watchObj, error) {
	w, err := lookup[*watchObj](h, ffi.KindWatch, "watch")
	if err != nil {
		return nil, err
	}
	if w.rt.isClosed() {
		return nil, errRuntimeClosed
	}
	return w, nil
}

// checkEvents validates the event bits of a call.
func checkEvents(name string, events C.uint32_t) error {
	if events == 0 || events&^(fdReadable|fdWritable) != 0 {
		return ffi.Errorf(ffi.EINVAL, "libasync: %s: events %#x is not a non-empty set of ASYNC_READABLE and ASYNC_WRITABLE", name, uint32(events))
	}
	return nil
}

// watchError maps an error of a watch: a descriptor the driver cannot
// watch is ENOTSUP, the rest as for sockets.
func watchError(err error) *ffi.Error {
	if errors.Is(err, driver.ErrNotSupported) {
		return &ffi.Error{Code: ffi.ENOTSUP, Msg: "libasync: the driver cannot watch this descriptor: " + err.Error(), Errno: ffi.ErrnoOf(err)}
	}
	return ioError(err)
}

// async_fd_watch puts a descriptor of the host's on the runtime's reactor.
//
//export async_fd_watch
func async_fd_watch(rt C.uint64_t, fd C.int64_t, out *C.uint64_t) (rc C.int32_t) {
	defer guard(&rc)
	r, err := liveRuntime(rt)
	if err != nil {
		return fail(err)
	}
	if out == nil {
		return failf(ffi.EINVAL, "libasync: async_fd_watch: out is NULL")
	}
	if fd < 0 || (driverFDIsInt && fd > math.MaxInt32) {
		return failf(ffi.EINVAL, "libasync: async_fd_watch: %d is not a descriptor", int64(fd))
	}
	cx := future.NewContext(future.NoopWaker(), r.ex)
	res, _ := socket.WatchFD(driver.FD(fd)).Poll(cx).Value()
	if res.Err != nil {
		return fail(watchError(res.Err))
	}
	w := &watchObj{rt: r, fd: res.Value}
	h, err := ffi.Handles.Insert(ffi.KindWatch, w)
	if err != nil {
		res.Value.Close()
		return fail(err)
	}
	r.addSocket(w)
	*out = C.uint64_t(h)
	return C.int32_t(ffi.OK)
}

// async_fd_poll reports the readiness of a watched descriptor, on the
// calling thread.
//
//export async_fd_poll
func async_fd_poll(wh C.uint64_t, events C.uint32_t, waker unsafe.Pointer, ready *C.uint32_t) (rc C.int32_t) {
	defer guard(&rc)
	w, err := liveWatch(wh)
	if err != nil {
		return fail(err)
	}
	if err := checkEvents("async_fd_poll", events); err != nil {
		return fail(err)
	}
	if ready == nil {
		return failf(ffi.EINVAL, "libasync: async_fd_poll: ready is NULL")
	}
	wk, err := checkWaker("async_fd_poll", waker)
	if err != nil {
		return fail(err)
	}
	w.mu.Lock()
	for i, d := range watchDirs {
		if uint32(events)&d.bit != 0 && w.waiting[i] {
			w.mu.Unlock()
			return failf(ffi.EINVAL, "libasync: async_fd_poll: a future of async_fd_ready waits on this direction")
		}
	}
	w.mu.Unlock()
	var got uint32
	var cx future.Context
	for i, d := range watchDirs {
		if uint32(events)&d.bit == 0 {
			continue
		}
		pollContext(&cx, &w.wakers[i], wk, w.rt.ex)
		r, ok := w.fd.PollLevel(&cx, d.dir).Value()
		switch {
		case !ok:
		case r.Err != nil:
			return fail(watchError(r.Err))
		default:
			got |= d.bit
		}
	}
	if got == 0 {
		return C.int32_t(ffi.Pending)
	}
	*ready = C.uint32_t(got)
	return C.int32_t(ffi.OK)
}

// async_fd_ready returns a future of the descriptor's readiness.
//
//export async_fd_ready
func async_fd_ready(wh C.uint64_t, events C.uint32_t, out *C.uint64_t) (rc C.int32_t) {
	defer guard(&rc)
	w, err := liveWatch(wh)
	if err != nil {
		return fail(err)
	}
	if err := checkEvents("async_fd_ready", events); err != nil {
		return fail(err)
	}
	if out == nil {
		return failf(ffi.EINVAL, "libasync: async_fd_ready: out is NULL")
	}
	var fs []future.Future[future.Result[uint64]]
	w.mu.Lock()
	for i, d := range watchDirs {
		if uint32(events)&d.bit != 0 && w.waiting[i] {
			w.mu.Unlock()
			return failf(ffi.EINVAL, "libasync: async_fd_ready: a future already waits on this direction")
		}
	}
	for i, d := range watchDirs {
		if uint32(events)&d.bit != 0 {
			w.waiting[i] = true
			// The wait an async_fd_poll left on the direction ends: the
			// reactor serves one waiter per direction.
			w.cancelPoll(i)
			bit := uint64(d.bit)
			fs = append(fs, future.Map(w.fd.Level(d.dir), func(r future.Result[driver.Readiness]) future.Result[uint64] {
				return future.Result[uint64]{Value: bit, Err: r.Err}
			}))
		}
	}
	w.mu.Unlock()
	idle := func(result) {
		w.mu.Lock()
		for i, d := range watchDirs {
			if uint32(events)&d.bit != 0 {
				w.waiting[i] = false
			}
		}
		w.mu.Unlock()
	}
	o, err := newFuture(w.rt)
	if err != nil {
		idle(result{})
		return fail(err)
	}
	o.onDone(idle)
	o.release = func(bool) { idle(result{}) }
	conv := func(v future.Result[uint64]) result {
		// Idle before the outcome is visible: a host that saw it may
		// wait again at once.
		idle(result{})
		if v.Err != nil {
			e := watchError(v.Err)
			return result{code: e.Code, msg: e.Msg, errno: e.Errno}
		}
		return result{code: ffi.OK, val: v.Value}
	}
	if err := startFuture(o, future.Race(fs...), conv); err != nil {
		o.free(false)
		return fail(err)
	}
	return publish(o, out)
}
