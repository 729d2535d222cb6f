//go:build (linux || darwin || netbsd || windows) && (amd64 || arm64) && cgo

package main

/*
#include "shim.h"
*/
import "C"

import (
	"sync"
	"time"
	"unsafe"

	"github.com/libasync/libasync/capi/ffi"
	"github.com/libasync/libasync/executor"
	"github.com/libasync/libasync/future"
)

// taskObj is the object behind a KindTask handle: a foreign future spawned
// on a runtime (the task's future is the taskObj itself, one allocation
// with the host's future in it), and its outcome once it ended.
type taskObj struct {
	rt *runtimeObj
	f  ffi.Foreign
	jh *executor.JoinHandle[struct{}]

	mu    sync.Mutex
	ended bool // the outcome is fixed and the host's drop returned
	res   result
	then  []func(result)
	// done is made by the first join that has to wait, and closed when
	// the task ends; most joins find the task ended and need none.
	done chan struct{}
}

// finish fixes the outcome once.
func (t *taskObj) finish(r result) {
	t.mu.Lock()
	if t.ended {
		t.mu.Unlock()
		return
	}
	t.ended, t.res = true, r
	then := t.then
	t.then = nil
	if t.done != nil {
		close(t.done)
	}
	t.mu.Unlock()
	for _, f := range then {
		f(r)
	}
}

// onDone calls f with the outcome once the task ended (at once if it has).
func (t *taskObj) onDone(f func(result)) {
	t.mu.Lock()
	if t.ended {
		r := t.res
		t.mu.Unlock()
		f(r)
		return
	}
	t.then = append(t.then, f)
	t.mu.Unlock()
}

// outcome returns the outcome if the task ended.
func (t *taskObj) outcome() (result, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.res, t.ended
}

// ending returns the outcome if the task ended, or else a channel closed
// when it does.
func (t *taskObj) ending() (result, bool, <-chan struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return t.res, true, nil
	}
	if t.done == nil {
		t.done = make(chan struct{})
	}
	return result{}, false, t.done
}

// Poll runs the foreign future; its outcome, once fixed, is the task's.
func (t *taskObj) Poll(cx *future.Context) (p future.Poll[struct{}]) {
	defer func() {
		if r := recover(); r != nil {
			t.f.Drop()
			t.finish(resultOf(0, &future.PanicError{Value: r}))
			p = future.Ready(struct{}{})
		}
	}()
	r, ok := t.f.Poll(cx).Value()
	if !ok {
		return future.Pending[struct{}]()
	}
	// Foreign called the host's drop before returning Ready.
	t.finish(resultOf(r.Value, r.Err))
	return future.Ready(struct{}{})
}

// Drop runs when the task is aborted or its runtime closes.
func (t *taskObj) Drop() {
	t.f.Drop()
	t.finish(result{code: ffi.ECANCELED, msg: "libasync: the task was aborted"})
}

func lookupTask(h C.uint64_t) (*taskObj, error) { return lookup[*taskObj](h, ffi.KindTask, "task") }

// async_spawn runs a foreign future on the runtime.
//
//export async_spawn
func async_spawn(rt C.uint64_t, poll, drop unsafe.Pointer, state unsafe.Pointer, out *C.uint64_t) (rc C.int32_t) {
	defer guard(&rc)
	r, err := lookupRuntime(rt)
	if err != nil {
		return fail(err)
	}
	if out == nil {
		return failf(ffi.EINVAL, "libasync: async_spawn: out is NULL")
	}
	t := &taskObj{rt: r}
	if err := t.f.Reset(uintptr(poll), uintptr(drop), uintptr(state)); err != nil {
		return fail(err)
	}
	// The handle exists before the task, so that a failure after the
	// spawn cannot happen: if the spawn fails, nothing was taken.
	h, err := ffi.Handles.Insert(ffi.KindTask, t)
	if err != nil {
		return fail(err)
	}
	jh, err := executor.Spawn[struct{}](r.ex, t)
	if err != nil {
		ffi.Handles.Remove(h)
		return fail(errRuntimeClosed)
	}
	t.jh = jh
	*out = C.uint64_t(h)
	return C.int32_t(ffi.OK)
}

// async_task_join waits for the task's outcome.
//
//export async_task_join
func async_task_join(th C.uint64_t, timeout C.int64_t, out *C.uint64_t) (rc C.int32_t) {
	defer guard(&rc)
	if inHost() {
		return errBlocking("async_task_join")
	}
	t, err := lookupTask(th)
	if err != nil {
		return fail(err)
	}
	if out == nil {
		return failf(ffi.EINVAL, "libasync: async_task_join: out is NULL")
	}
	res, ended := t.outcome()
	if !ended && t.rt.host != nil && timeout != 0 {
		// On a host-driven runtime the task most often ends in the next
		// turn of the loop: run that before making a channel to wait on.
		if _, err := t.rt.host.Run(executor.RunNoWait); err == nil {
			res, ended = t.outcome()
		}
	}
	if !ended {
		var done <-chan struct{}
		if res, ended, done = t.ending(); ended {
			return deliver(res, out)
		}
		if !t.rt.await(done, int64(timeout), nil) {
			return failf(ffi.ETIMEDOUT, "libasync: async_task_join: timed out after %d ns", int64(timeout))
		}
		res, _, _ = t.ending()
	}
	return deliver(res, out)
}

// deliver returns r to the host: *out on success, the message otherwise.
func deliver(r result, out *C.uint64_t) C.int32_t {
	switch {
	case r.code == ffi.OK:
		*out = C.uint64_t(r.val)
	case r.code < 0:
		setError(r.msg, r.errno)
	}
	return C.int32_t(r.code)
}

// waitFor blocks until done is closed (true), timeout nanoseconds passed
// (negative: no limit) or cancel is closed (both false).
func waitFor(done <-chan struct{}, timeout int64, cancel <-chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
	}
	if timeout == 0 {
		return false
	}
	var expire <-chan time.Time
	if timeout > 0 {
		tm := time.NewTimer(time.Duration(timeout))
		defer tm.Stop()
		expire = tm.C
	}
	select {
	case <-done:
		return true
	case <-expire:
		return false
	case <-cancel:
		return false
	}
}

// async_task_abort cancels the task.
//
//export async_task_abort
func async_task_abort(th C.uint64_t) (rc C.int32_t) {
	defer guard(&rc)
	t, err := lookupTask(th)
	if err != nil {
		return fail(err)
	}
	if t.rt.isClosed() {
		return fail(errRuntimeClosed)
	}
	t.jh.Abort()
	return C.int32_t(ffi.OK)
}

// async_task_free releases the task's handle; the task runs on.
//
//export async_task_free
func async_task_free(th C.uint64_t) (rc C.int32_t) {
	defer guard(&rc)
	if _, err := take[*taskObj](th, ffi.KindTask, "task"); err != nil {
		return fail(err)
	}
	return C.int32_t(ffi.OK)
}
