//go:build (linux || darwin || netbsd || windows) && (amd64 || arm64) && cgo

package main

/*
#include "shim.h"
*/
import "C"

import (
	"math"
	"time"
	"unsafe"

	"github.com/libasync/libasync/capi/ffi"
	"github.com/libasync/libasync/executor"
	"github.com/libasync/libasync/future"
)

func lookupFuture(h C.uint64_t) (*futureObj, error) {
	return lookup[*futureObj](h, ffi.KindFuture, "future")
}

// publish gives o a handle in *out, or frees o and fails.
func publish(o *futureObj, out *C.uint64_t) C.int32_t {
	h, err := ffi.Handles.Insert(ffi.KindFuture, o)
	if err != nil {
		o.free(false)
		return fail(err)
	}
	*out = C.uint64_t(h)
	return C.int32_t(ffi.OK)
}

// duration converts nanoseconds of the ABI, saturating.
func duration(ns uint64) time.Duration {
	if ns > math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(ns)
}

// async_sleep returns a future that yields 0 once ns passed.
//
//export async_sleep
func async_sleep(rt C.uint64_t, ns C.uint64_t, out *C.uint64_t) (rc C.int32_t) {
	defer guard(&rc)
	r, err := lookupRuntime(rt)
	if err != nil {
		return fail(err)
	}
	if out == nil {
		return failf(ffi.EINVAL, "libasync: async_sleep: out is NULL")
	}
	o, err := newFuture(r)
	if err != nil {
		return fail(err)
	}
	if err := startFuture(o, executor.Sleep(duration(uint64(ns))), func(v future.Result[struct{}]) result { return resultOf(0, v.Err) }); err != nil {
		o.free(false)
		return fail(err)
	}
	return publish(o, out)
}

// async_task_future returns a future of the task's outcome.
//
//export async_task_future
func async_task_future(th C.uint64_t, out *C.uint64_t) (rc C.int32_t) {
	defer guard(&rc)
	t, err := lookupTask(th)
	if err != nil {
		return fail(err)
	}
	if out == nil {
		return failf(ffi.EINVAL, "libasync: async_task_future: out is NULL")
	}
	o, err := newFuture(t.rt)
	if err != nil {
		// The runtime closed, so the task has its outcome, and the
		// future has nothing for a close to drop: it stays unlisted.
		o = &futureObj{rt: t.rt}
	}
	t.onDone(func(r result) { o.complete(r) })
	return publish(o, out)
}

// async_timeout takes f and yields its outcome, or ETIMEDOUT after ns.
//
//export async_timeout
func async_timeout(fh C.uint64_t, ns C.uint64_t, out *C.uint64_t) (rc C.int32_t) {
	defer guard(&rc)
	f, err := take[*futureObj](fh, ffi.KindFuture, "future")
	if err != nil {
		return fail(err)
	}
	if out == nil {
		f.free(false)
		return failf(ffi.EINVAL, "libasync: async_timeout: out is NULL")
	}
	g, err := newFuture(f.rt)
	if err != nil {
		f.free(false)
		return fail(err)
	}
	timer := executor.Sleep(duration(uint64(ns)))
	expired := func(v future.Result[struct{}]) result {
		if v.Err != nil {
			return resultOf(0, v.Err)
		}
		return result{code: ffi.ETIMEDOUT, msg: "libasync: async_timeout: the time passed"}
	}
	if err := startFuture(g, timer, expired); err != nil {
		f.free(false)
		g.free(false)
		return fail(err)
	}
	// The timer's task completes g first when the time passes; f's
	// completion does when f wins. Whichever completes g decides; f is
	// freed with g, observed only if g's outcome was seen.
	stopTimer := g.cancel
	g.cancel = nil
	g.release = func(observed bool) {
		stopTimer()
		f.free(observed)
	}
	g.onDone(func(r result) {
		if r.code == ffi.ETIMEDOUT {
			f.free(false)
		}
	})
	if f.drive != nil {
		// f is cold: polling g drives it, with g as its waker.
		g.drive = func(cx *future.Context) (result, bool) {
			f.stepWith(cx)
			return f.peek()
		}
	}
	f.onDone(func(r result) {
		if g.complete(r) {
			stopTimer()
		}
	})
	return publish(g, out)
}

// async_future_poll polls a runtime future once.
//
//export async_future_poll
func async_future_poll(fh C.uint64_t, waker unsafe.Pointer, out *C.uint64_t) (rc C.int32_t) {
	defer guard(&rc)
	o, err := lookupFuture(fh)
	if err != nil {
		return fail(err)
	}
	if waker == nil || out == nil {
		return failf(ffi.EINVAL, "libasync: async_future_poll: waker or out is NULL")
	}
	w := (*ffi.Waker)(waker)
	if w.VTable == nil || w.VTable.Clone == 0 || w.VTable.Wake == 0 || w.VTable.WakeByRef == 0 || w.VTable.Drop == 0 {
		return failf(ffi.EINVAL, "libasync: async_future_poll: the waker's vtable or one of its functions is NULL")
	}
	r, _ := o.poll(w)
	return deliver(r, out)
}

// async_future_free frees a runtime future.
//
//export async_future_free
func async_future_free(fh C.uint64_t) (rc C.int32_t) {
	defer guard(&rc)
	o, err := take[*futureObj](fh, ffi.KindFuture, "future")
	if err != nil {
		return fail(err)
	}
	o.free(false)
	return C.int32_t(ffi.OK)
}

// async_block_on waits on the calling thread for f's outcome.
//
//export async_block_on
func async_block_on(rt C.uint64_t, fh C.uint64_t, timeout C.int64_t, out *C.uint64_t) (rc C.int32_t) {
	defer guard(&rc)
	if inHost() {
		return errBlocking("async_block_on")
	}
	r, err := lookupRuntime(rt)
	if err != nil {
		return fail(err)
	}
	o, err := lookupFuture(fh)
	if err != nil {
		return fail(err)
	}
	if out == nil {
		return failf(ffi.EINVAL, "libasync: async_block_on: out is NULL")
	}
	if o.rt != r {
		return failf(ffi.EINVAL, "libasync: async_block_on: the future belongs to another runtime")
	}
	// A hot future completes on its own: wait for it. A cold one is driven
	// here: wait for a wake (registered before the step, so none is
	// lost), step again.
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(time.Duration(timeout))
	}
	for {
		done := o.wait()
		if done == nil {
			break
		}
		o.step()
		left := int64(timeout)
		if timeout > 0 {
			left = max(int64(time.Until(deadline)), 0)
		}
		if !r.await(done, left, r.closing) {
			if r.isClosed() {
				return failf(ffi.ECANCELED, "libasync: async_block_on: the runtime closed")
			}
			return failf(ffi.ETIMEDOUT, "libasync: async_block_on: timed out after %d ns", int64(timeout))
		}
	}
	res, _ := o.outcome()
	if res.code == ffi.ECLOSED && r.isClosed() {
		// Completed by the close while this call waited: the close
		// released it.
		return failf(ffi.ECANCELED, "libasync: async_block_on: the runtime closed")
	}
	return deliver(res, out)
}
