//go:build (linux || darwin || netbsd || windows) && (amd64 || arm64) && cgo

package main

/*
#include "shim.h"
*/
import "C"

import (
	"errors"
	"math"
	"time"

	"github.com/libasync/libasync/capi/ffi"
	"github.com/libasync/libasync/executor"
)

// The modes of async_runtime_run.
const (
	runDefault = 0 // ASYNC_RUN_DEFAULT
	runOnce    = 1 // ASYNC_RUN_ONCE
	runNoWait  = 2 // ASYNC_RUN_NOWAIT
)

var runModes = map[C.int32_t]executor.RunMode{
	runDefault: executor.RunDefault,
	runOnce:    executor.RunOnce,
	runNoWait:  executor.RunNoWait,
}

// hostRuntime returns the runtime of h if it is live and host-driven.
func hostRuntime(h C.uint64_t, name string) (*runtimeObj, error) {
	r, err := liveRuntime(h)
	if err != nil {
		return nil, err
	}
	if r.host == nil {
		return nil, ffi.Errorf(ffi.EINVAL, "libasync: %s: the runtime is threaded (its workers run it); create it with ASYNC_RUNTIME_HOST_DRIVEN", name)
	}
	return r, nil
}

// async_runtime_run runs a host-driven runtime on the calling thread.
//
//export async_runtime_run
func async_runtime_run(rt C.uint64_t, mode C.int32_t) (rc C.int32_t) {
	defer guard(&rc)
	if inHost() {
		return failf(ffi.EINVAL, "libasync: async_runtime_run: called from host code that a runtime is running (a poll or drop function, a waker); a run cannot be re-entered")
	}
	r, err := hostRuntime(rt, "async_runtime_run")
	if err != nil {
		return fail(err)
	}
	m, ok := runModes[mode]
	if !ok {
		return failf(ffi.EINVAL, "libasync: async_runtime_run: mode %d is none of ASYNC_RUN_DEFAULT, ASYNC_RUN_ONCE, ASYNC_RUN_NOWAIT", int32(mode))
	}
	alive, err := r.host.Run(m)
	switch {
	case errors.Is(err, executor.ErrRunning):
		return failf(ffi.EINVAL, "libasync: async_runtime_run: another thread is running this runtime")
	case err != nil:
		return fail(errRuntimeClosed)
	case alive:
		return C.int32_t(ffi.Pending)
	}
	return C.int32_t(ffi.OK)
}

// async_runtime_stop makes a run of a host-driven runtime return.
//
//export async_runtime_stop
func async_runtime_stop(rt C.uint64_t) (rc C.int32_t) {
	defer guard(&rc)
	r, err := hostRuntime(rt, "async_runtime_stop")
	if err != nil {
		return fail(err)
	}
	r.host.Stop()
	return C.int32_t(ffi.OK)
}

// async_runtime_backend_fd gives the descriptor an outer event loop waits
// on for a host-driven runtime.
//
//export async_runtime_backend_fd
func async_runtime_backend_fd(rt C.uint64_t, out *C.int64_t) (rc C.int32_t) {
	defer guard(&rc)
	r, err := hostRuntime(rt, "async_runtime_backend_fd")
	if err != nil {
		return fail(err)
	}
	if out == nil {
		return failf(ffi.EINVAL, "libasync: async_runtime_backend_fd: out is NULL")
	}
	fd, err := r.host.BackendFD()
	if err != nil {
		return failf(ffi.ENOTSUP, "libasync: async_runtime_backend_fd: the %s driver has no descriptor to wait on", r.driver)
	}
	*out = C.int64_t(fd)
	return C.int32_t(ffi.OK)
}

// async_runtime_backend_timeout gives the milliseconds an outer event loop
// may wait before it must run a host-driven runtime.
//
//export async_runtime_backend_timeout
func async_runtime_backend_timeout(rt C.uint64_t, out *C.int32_t) (rc C.int32_t) {
	defer guard(&rc)
	r, err := hostRuntime(rt, "async_runtime_backend_timeout")
	if err != nil {
		return fail(err)
	}
	if out == nil {
		return failf(ffi.EINVAL, "libasync: async_runtime_backend_timeout: out is NULL")
	}
	d, err := r.host.BackendTimeout()
	if err != nil {
		return failf(ffi.EINVAL, "libasync: async_runtime_backend_timeout: another thread is running this runtime")
	}
	*out = C.int32_t(timeoutMillis(d))
	return C.int32_t(ffi.OK)
}

// timeoutMillis rounds d up to whole milliseconds (a wait never ends before
// the timer is due), saturating; negative stays -1.
func timeoutMillis(d time.Duration) int64 {
	if d < 0 {
		return -1
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	return int64(min(ms, math.MaxInt32))
}

// awaitSlice is how long a thread that waits for a host-driven runtime's
// future, while another thread runs the loop, waits before it tries to run
// the loop itself (in case that thread stopped running it).
const awaitSlice = 10 * time.Millisecond

// await blocks the calling thread until done is closed (true), or timeout
// nanoseconds passed (negative: no limit) or cancel is closed (false). A
// threaded runtime gets there on its own; a host-driven one is run on the
// calling thread meanwhile, unless another thread runs it.
func (r *runtimeObj) await(done <-chan struct{}, timeout int64, cancel <-chan struct{}) bool {
	if r.host == nil {
		return waitFor(done, timeout, cancel)
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(time.Duration(timeout))
		// A RunOnce waiting for I/O returns at the deadline.
		t := time.AfterFunc(time.Duration(timeout), r.host.Interrupt)
		defer t.Stop()
	}
	left := func() int64 {
		if timeout <= 0 {
			return timeout
		}
		return max(int64(time.Until(deadline)), 0)
	}
	for {
		select {
		case <-done:
			return true
		default:
		}
		if left() == 0 {
			return false
		}
		_, err := r.host.Run(executor.RunOnce)
		switch {
		case err == nil:
		case errors.Is(err, executor.ErrRunning):
			// Another thread runs the loop, and so drives what done
			// waits for.
			slice := int64(awaitSlice)
			if l := left(); l >= 0 && l < slice {
				slice = l
			}
			if waitFor(done, slice, cancel) {
				return true
			}
			if isClosed(cancel) {
				return false
			}
		default:
			// Closed: the close settles every task and future, and
			// returns only once it has.
			return waitFor(done, left(), cancel)
		}
	}
}

// isClosed reports whether c is closed (a nil c never is).
func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
