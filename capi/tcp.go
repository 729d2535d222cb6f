//go:build (linux || darwin || netbsd) && (amd64 || arm64) && cgo

package main

/*
#include "shim.h"
*/
import "C"

import (
	"unsafe"

	"github.com/libasync/libasync/capi/ffi"
)

func notYet(name string) C.int32_t {
	return failf(ffi.ENOTSUP, "libasync: %s is not implemented in this build yet", name)
}

// async_tcp_listen opens a TCP listener.
//
//export async_tcp_listen
func async_tcp_listen(rt C.uint64_t, addr *C.char, out *C.uint64_t) (rc C.int32_t) {
	defer guard(&rc)
	return notYet("async_tcp_listen")
}

// async_tcp_local_addr writes the local address of a listener or stream.
//
//export async_tcp_local_addr
func async_tcp_local_addr(h C.uint64_t, buf *C.char, n C.size_t) (rc C.int32_t) {
	defer guard(&rc)
	return notYet("async_tcp_local_addr")
}

// async_tcp_accept returns a future of the next connection.
//
//export async_tcp_accept
func async_tcp_accept(l C.uint64_t, out *C.uint64_t) (rc C.int32_t) {
	defer guard(&rc)
	return notYet("async_tcp_accept")
}

// async_tcp_connect returns a future of a connected stream.
//
//export async_tcp_connect
func async_tcp_connect(rt C.uint64_t, addr *C.char, out *C.uint64_t) (rc C.int32_t) {
	defer guard(&rc)
	return notYet("async_tcp_connect")
}

// async_read returns a future that reads into buf.
//
//export async_read
func async_read(s C.uint64_t, buf unsafe.Pointer, n C.size_t, out *C.uint64_t) (rc C.int32_t) {
	defer guard(&rc)
	return notYet("async_read")
}

// async_write returns a future that writes buf.
//
//export async_write
func async_write(s C.uint64_t, buf unsafe.Pointer, n C.size_t, out *C.uint64_t) (rc C.int32_t) {
	defer guard(&rc)
	return notYet("async_write")
}

// async_shutdown_write half-closes a stream.
//
//export async_shutdown_write
func async_shutdown_write(s C.uint64_t) (rc C.int32_t) {
	defer guard(&rc)
	return notYet("async_shutdown_write")
}

// async_close closes a stream or listener.
//
//export async_close
func async_close(h C.uint64_t) (rc C.int32_t) {
	defer guard(&rc)
	return notYet("async_close")
}
