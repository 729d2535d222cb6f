//go:build (linux || darwin || netbsd || windows) && (amd64 || arm64) && cgo

package main

/*
#include "shim.h"
*/
import "C"

import (
	"unsafe"

	"github.com/libasync/libasync/capi/ffi"
	"github.com/libasync/libasync/driver"
)

// Version is the library's release.
const Version = "0.1.0"

// The static texts of async_version and async_strerror (defined in shim.c)
// are copied into C storage once, so that the host gets pointers that stay
// valid for the life of the process and nothing is allocated for them.
func init() {
	p, n := cText("libasync " + Version + " (abi 1, driver " + driver.Default() + ")")
	C.asyncgo_set_version(p, n)
	for c := ffi.ENOTSUP; c <= ffi.Pending; c++ {
		p, n := cText(c.String())
		C.asyncgo_set_code_text(C.int32_t(c), p, n)
	}
	p, n = cText(ffi.HostCodeMax.String())
	C.asyncgo_set_code_text(C.int32_t(ffi.HostCodeMax), p, n)
}

// cText passes s's bytes to a C function that copies them before it
// returns (no NUL: the length goes along).
func cText(s string) (*C.char, C.size_t) {
	return (*C.char)(unsafe.Pointer(unsafe.StringData(s))), C.size_t(len(s))
}

// async_abi_version returns ASYNC_ABI_VERSION of this library.
//
//export async_abi_version
func async_abi_version() C.int32_t { return ffi.ABIVersion }

// asyncgo_wait_init returns once the Go side is initialised: every cgo
// callback waits for package initialization first, which is all it is for.
//
//export asyncgo_wait_init
func asyncgo_wait_init() {}
