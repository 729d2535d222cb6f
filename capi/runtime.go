//go:build (linux || darwin || netbsd || windows) && (amd64 || arm64) && cgo

package main

/*
#include "shim.h"
*/
import "C"

import (
	"slices"
	"sync"
	"unsafe"

	"github.com/libasync/libasync/capi/ffi"
	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/executor"
)

// maxWorkers bounds async_config.workers (executor.NewRuntime's limit).
const maxWorkers = 65535

// asyncConfig mirrors struct async_config of the header.
type asyncConfig struct {
	size     uint32
	workers  uint32
	driver   *C.char
	flags    uint32
	reserved uint32
}

// configV1Size is the size of ABI version 1's async_config (size, workers,
// driver): a host built against that header passes it, and gets the
// defaults for the fields added since.
const configV1Size = unsafe.Offsetof(asyncConfig{}.flags)

// The flags of async_config.
const (
	flagHostDriven = 1 << 0 // ASYNC_RUNTIME_HOST_DRIVEN
	knownFlags     = flagHostDriven
)

// runtimeObj is the object behind a KindRuntime handle.
type runtimeObj struct {
	ex     engine
	driver string
	// host is the executor when the runtime is host-driven (the same
	// object as ex), nil when it is threaded.
	host *executor.Local

	mu     sync.Mutex
	closed bool
	// futures are the live runtime futures, and sockets the open streams and
	// listeners, whose host waker clones close drops.
	futures map[*futureObj]struct{}
	sockets map[socketObj]struct{}
	// closing is closed when async_runtime_close begins, releasing the
	// host threads blocked in async_block_on.
	closing chan struct{}
}

// isClosed reports whether close began.
func (r *runtimeObj) isClosed() bool { return isClosed(r.closing) }

func (r *runtimeObj) addFuture(o *futureObj) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.futures[o] = struct{}{}
	return true
}

func (r *runtimeObj) removeFuture(o *futureObj) {
	r.mu.Lock()
	delete(r.futures, o)
	r.mu.Unlock()
}

// socketObj is the object of a handle that async_close closes (a stream,
// a listener, a watch), which may hold clones of host wakers (its polls').
type socketObj interface {
	dropWakers()
	runtime() *runtimeObj
	close() error
}

// addSocket lists s, so that close drops its wakers; after close it drops
// them at once (a socket made by a future that raced the close).
func (r *runtimeObj) addSocket(s socketObj) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		s.dropWakers()
		return
	}
	r.sockets[s] = struct{}{}
	r.mu.Unlock()
}

// removeSocket unlists s after its close, dropping its wakers.
func (r *runtimeObj) removeSocket(s socketObj) {
	r.mu.Lock()
	delete(r.sockets, s)
	r.mu.Unlock()
	s.dropWakers()
}

var errRuntimeClosed = ffi.Errorf(ffi.ECLOSED, "libasync: the runtime is closed")

// lookup returns the object of h if it is live and of kind k.
func lookup[T any](h C.uint64_t, k ffi.Kind, what string) (T, error) {
	var zero T
	hh := ffi.Handle(h)
	if h == 0 {
		return zero, ffi.Errorf(ffi.EINVAL, "libasync: %s handle is 0", what)
	}
	if hh.Kind() != k {
		return zero, ffi.Errorf(ffi.EINVAL, "libasync: handle %#x is not a %s", uint64(h), what)
	}
	obj, ok := ffi.Handles.Get(hh)
	if !ok {
		return zero, ffi.Errorf(ffi.EINVAL, "libasync: %s handle %#x is stale or freed", what, uint64(h))
	}
	t, ok := obj.(T)
	if !ok {
		return zero, ffi.Errorf(ffi.EINVAL, "libasync: handle %#x is not a %s", uint64(h), what)
	}
	return t, nil
}

// take looks h up as lookup does and releases it: of concurrent takes of
// one handle, one wins and the others fail as a double free does.
func take[T any](h C.uint64_t, k ffi.Kind, what string) (T, error) {
	t, err := lookup[T](h, k, what)
	if err != nil {
		return t, err
	}
	if _, ok := ffi.Handles.Remove(ffi.Handle(h)); !ok {
		var zero T
		return zero, ffi.Errorf(ffi.EINVAL, "libasync: %s handle %#x was released already", what, uint64(h))
	}
	return t, nil
}

func lookupRuntime(h C.uint64_t) (*runtimeObj, error) {
	return lookup[*runtimeObj](h, ffi.KindRuntime, "runtime")
}

// liveRuntime is lookupRuntime that also fails with ECLOSED once the
// runtime's close began.
func liveRuntime(h C.uint64_t) (*runtimeObj, error) {
	r, err := lookupRuntime(h)
	if err != nil {
		return nil, err
	}
	if r.isClosed() {
		return nil, errRuntimeClosed
	}
	return r, nil
}

// async_runtime_new starts a runtime.
//
//export async_runtime_new
func async_runtime_new(cfg unsafe.Pointer, out *C.uint64_t) (rc C.int32_t) {
	defer guard(&rc)
	if out == nil {
		return failf(ffi.EINVAL, "libasync: async_runtime_new: out is NULL")
	}
	var workers, flags uint32
	name := ""
	if cfg != nil {
		c := (*asyncConfig)(cfg)
		if uintptr(c.size) < configV1Size {
			return failf(ffi.EINVAL, "libasync: async_config.size is %d, want at least %d", c.size, configV1Size)
		}
		workers = c.workers
		if c.driver != nil {
			name = C.GoString(c.driver)
		}
		if uintptr(c.size) >= unsafe.Sizeof(asyncConfig{}) {
			flags = c.flags
			if c.reserved != 0 {
				return failf(ffi.EINVAL, "libasync: async_config.reserved is %d, want 0", c.reserved)
			}
		}
	}
	if flags&^knownFlags != 0 {
		return failf(ffi.EINVAL, "libasync: async_config.flags has unknown bits %#x", flags&^knownFlags)
	}
	hostDriven := flags&flagHostDriven != 0
	if hostDriven && workers != 0 {
		return failf(ffi.EINVAL, "libasync: async_config.workers is %d, but a host-driven runtime has no workers (give 0)", workers)
	}
	if name != "" && !slices.Contains(driver.Names(), name) {
		return failf(ffi.ENOTSUP, "libasync: unknown driver %q (this build has %v)", name, driver.Names())
	}
	if workers > maxWorkers {
		return failf(ffi.EINVAL, "libasync: async_config.workers is %d, more than %d", workers, maxWorkers)
	}
	ex, err := newEngine(name, int(workers), hostDriven)
	if err != nil {
		return fail(&ffi.Error{Code: ffi.EIO, Msg: "libasync: starting the runtime: " + err.Error(), Errno: ffi.ErrnoOf(err)})
	}
	r := &runtimeObj{ex: ex, driver: ex.DriverName(), futures: map[*futureObj]struct{}{}, sockets: map[socketObj]struct{}{}, closing: make(chan struct{})}
	if hostDriven {
		r.host = ex.(*executor.Local)
	}
	h, err := ffi.Handles.Insert(ffi.KindRuntime, r)
	if err != nil {
		ex.Close()
		return fail(err)
	}
	*out = C.uint64_t(h)
	return C.int32_t(ffi.OK)
}

// async_runtime_driver writes the name of the runtime's driver.
//
//export async_runtime_driver
func async_runtime_driver(rt C.uint64_t, buf *C.char, n C.size_t) (rc C.int32_t) {
	defer guard(&rc)
	r, err := liveRuntime(rt)
	if err != nil {
		return fail(err)
	}
	return writeString(buf, n, r.driver)
}

// writeString copies s and a NUL into buf of n bytes, or fails with EINVAL
// and writes nothing when it does not fit.
func writeString(buf *C.char, n C.size_t, s string) C.int32_t {
	if buf == nil {
		return failf(ffi.EINVAL, "libasync: buffer is NULL")
	}
	if uint64(n) < uint64(len(s))+1 {
		return failf(ffi.EINVAL, "libasync: buffer of %d bytes is too small for %d", uint64(n), len(s)+1)
	}
	dst := unsafe.Slice((*byte)(unsafe.Pointer(buf)), len(s)+1)
	copy(dst, s)
	dst[len(s)] = 0
	return C.int32_t(ffi.OK)
}

// async_runtime_close stops the runtime and consumes its handle.
//
//export async_runtime_close
func async_runtime_close(rt C.uint64_t) (rc C.int32_t) {
	defer guard(&rc)
	if inHost() {
		return errBlocking("async_runtime_close")
	}
	r, err := take[*runtimeObj](rt, ffi.KindRuntime, "runtime")
	if err != nil {
		return fail(err)
	}
	close(r.closing)
	// Tasks are dropped by the engine's Close: foreign futures get their
	// drop, runtime futures complete with ECLOSED (dropping, not waking,
	// their host wakers, since closing is set).
	err = r.ex.Close()
	r.mu.Lock()
	r.closed = true
	futs := make([]*futureObj, 0, len(r.futures))
	for o := range r.futures {
		futs = append(futs, o)
	}
	r.futures = nil
	socks := r.sockets
	r.sockets = nil
	r.mu.Unlock()
	for _, o := range futs {
		o.complete(result{code: ffi.ECLOSED, msg: errRuntimeClosed.Msg})
		o.hw.Clear()
	}
	for s := range socks {
		s.dropWakers()
	}
	if err != nil {
		return failf(ffi.EIO, "libasync: closing the runtime: %v", err)
	}
	return C.int32_t(ffi.OK)
}
