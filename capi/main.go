//go:build (linux || darwin || netbsd || windows) && (amd64 || arm64) && cgo

// Command capi is libasync.so, the C ABI of libasync: build it with
// `make lib` (go build -buildmode=c-shared). Every function declared in
// include/libasync.h is exported here; the contract, with its rules on
// ownership, threads and re-entrancy, is that header.
//
// The Go side of each export looks its handles up in ffi.Handles, recovers
// any panic (no Go panic reaches the host) and reports failures as a
// negative code with a message that async_last_error returns on the same
// host thread.
package main

/*
#include "shim.h"
*/
import "C"

import (
	"unsafe"

	"github.com/libasync/libasync/capi/ffi"
)

func main() {}

func init() {
	ffi.SetCaller(cgoCaller{})
	ffi.SetVTable((*ffi.VTable)(C.asyncgo_vtable_ptr()))
}

// cgoCaller calls host functions through shim.c's trampolines, which mark
// the thread as running host code for the duration of the call.
type cgoCaller struct{}

func (cgoCaller) Poll(fn, state uintptr, w *ffi.Waker, out *uint64) ffi.Code {
	return ffi.Code(C.asyncgo_call_poll(C.uintptr_t(fn), C.uintptr_t(state), (*C.asyncgo_waker)(unsafe.Pointer(w)), (*C.uint64_t)(out)))
}

func (cgoCaller) Call1(fn, arg uintptr) { C.asyncgo_call1(C.uintptr_t(fn), C.uintptr_t(arg)) }

func (cgoCaller) Clone(fn, data uintptr, out *ffi.Waker) {
	C.asyncgo_call_clone(C.uintptr_t(fn), C.uintptr_t(data), (*C.asyncgo_waker)(unsafe.Pointer(out)))
}

// inHost reports whether the calling thread runs host code called by the
// runtime (a poll or drop function, a waker's vtable), where blocking calls
// are refused.
func inHost() bool { return C.asyncgo_in_host() != 0 }

// fail records err as the calling thread's last error and returns its code.
func fail(err error) C.int32_t {
	e, ok := err.(*ffi.Error)
	if !ok {
		e = &ffi.Error{Code: ffi.CodeOf(err), Msg: err.Error(), Errno: ffi.ErrnoOf(err)}
	}
	setError(e.Msg, e.Errno)
	return C.int32_t(e.Code)
}

// failf records a formatted message and returns code c.
func failf(c ffi.Code, format string, args ...any) C.int32_t {
	return fail(ffi.Errorf(c, format, args...))
}

func setError(msg string, errno int64) {
	p, n := cText(msg)
	C.asyncgo_set_error(p, n, C.int64_t(errno))
}

// guard is deferred by every export: a panic becomes EPANIC with a message
// instead of unwinding into the host.
func guard(rc *C.int32_t) {
	if r := recover(); r != nil {
		*rc = failf(ffi.EPANIC, "libasync: internal panic: %v", r)
	}
}

// errBlocking is the failure of a blocking call made from a runtime thread.
func errBlocking(name string) C.int32_t {
	return failf(ffi.EINVAL, "libasync: %s called from a runtime thread (from a poll, drop or waker function), where it would deadlock", name)
}

//export asyncgo_waker_clone
func asyncgo_waker_clone(data C.uintptr_t, out unsafe.Pointer) {
	ffi.WakerClone(uintptr(data), (*ffi.Waker)(out))
}

//export asyncgo_waker_wake
func asyncgo_waker_wake(data C.uintptr_t) { ffi.WakerWake(uintptr(data)) }

//export asyncgo_waker_wake_by_ref
func asyncgo_waker_wake_by_ref(data C.uintptr_t) { ffi.WakerWakeByRef(uintptr(data)) }

//export asyncgo_waker_drop
func asyncgo_waker_drop(data C.uintptr_t) { ffi.WakerDrop(uintptr(data)) }
