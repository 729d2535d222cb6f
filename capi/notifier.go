//go:build (linux || darwin || netbsd || windows) && (amd64 || arm64) && cgo

package main

/*
#include "shim.h"
*/
import "C"

import (
	"unsafe"

	"github.com/libasync/libasync/capi/ffi"
)

// notifierObj is the object behind a KindNotifier handle.
type notifierObj struct {
	rt *runtimeObj
	n  *ffi.Notifier
}

func lookupNotifier(h C.uint64_t) (*notifierObj, error) {
	return lookup[*notifierObj](h, ffi.KindNotifier, "notifier")
}

// async_notifier_new creates a notifier.
//
//export async_notifier_new
func async_notifier_new(rt C.uint64_t, out *C.uint64_t) (rc C.int32_t) {
	defer guard(&rc)
	r, err := lookupRuntime(rt)
	if err != nil {
		return fail(err)
	}
	if out == nil {
		return failf(ffi.EINVAL, "libasync: async_notifier_new: out is NULL")
	}
	n, err := ffi.NewNotifier()
	if err != nil {
		return fail(err)
	}
	h, err := ffi.Handles.Insert(ffi.KindNotifier, &notifierObj{rt: r, n: n})
	if err != nil {
		n.Close()
		return fail(err)
	}
	*out = C.uint64_t(h)
	return C.int32_t(ffi.OK)
}

// async_notifier_fd gives the notifier's descriptor.
//
//export async_notifier_fd
func async_notifier_fd(nh C.uint64_t, out *C.int64_t) (rc C.int32_t) {
	defer guard(&rc)
	n, err := lookupNotifier(nh)
	if err != nil {
		return fail(err)
	}
	if out == nil {
		return failf(ffi.EINVAL, "libasync: async_notifier_fd: out is NULL")
	}
	*out = C.int64_t(n.n.Fd())
	return C.int32_t(ffi.OK)
}

// async_notifier_waker makes a waker that queues tag on the notifier.
//
//export async_notifier_waker
func async_notifier_waker(nh C.uint64_t, tag C.uint64_t, out unsafe.Pointer) (rc C.int32_t) {
	defer guard(&rc)
	n, err := lookupNotifier(nh)
	if err != nil {
		return fail(err)
	}
	if out == nil {
		return failf(ffi.EINVAL, "libasync: async_notifier_waker: out is NULL")
	}
	if n.rt.isClosed() {
		return fail(errRuntimeClosed)
	}
	w, err := n.n.NewWaker(uint64(tag))
	if err != nil {
		return fail(err)
	}
	*(*ffi.Waker)(out) = w
	return C.int32_t(ffi.OK)
}

// async_notifier_drain moves woken tags out.
//
//export async_notifier_drain
func async_notifier_drain(nh C.uint64_t, tags *C.uint64_t, capacity C.size_t, count *C.size_t) (rc C.int32_t) {
	defer guard(&rc)
	n, err := lookupNotifier(nh)
	if err != nil {
		return fail(err)
	}
	if tags == nil || count == nil {
		return failf(ffi.EINVAL, "libasync: async_notifier_drain: tags or count is NULL")
	}
	if capacity > 1<<30 {
		return failf(ffi.EINVAL, "libasync: async_notifier_drain: cap %d is too large", uint64(capacity))
	}
	buf := unsafe.Slice((*uint64)(unsafe.Pointer(tags)), int(capacity))
	*count = C.size_t(n.n.Drain(buf))
	return C.int32_t(ffi.OK)
}

// async_notifier_free closes the notifier and its descriptor.
//
//export async_notifier_free
func async_notifier_free(nh C.uint64_t) (rc C.int32_t) {
	defer guard(&rc)
	n, err := take[*notifierObj](nh, ffi.KindNotifier, "notifier")
	if err != nil {
		return fail(err)
	}
	if err := n.n.Close(); err != nil {
		return failf(ffi.EIO, "libasync: closing the notifier: %v", err)
	}
	return C.int32_t(ffi.OK)
}
