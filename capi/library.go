//go:build (linux || darwin || netbsd) && (amd64 || arm64) && cgo

package main

/*
#include "shim.h"
*/
import "C"

import (
	"github.com/libasync/libasync/capi/ffi"
	"github.com/libasync/libasync/driver"
)

// Version is the library's release.
const Version = "0.1.0"

// Static strings handed to the host: allocated once in C memory, never
// freed, so the pointers stay valid for the life of the process.
var (
	versionText = C.CString("libasync " + Version + " (abi 1, driver " + driver.Default() + ")")
	codeTexts   = map[ffi.Code]*C.char{}
	unknownText = C.CString("unknown")
)

func init() {
	for c := ffi.ENOTSUP; c <= ffi.Pending; c++ {
		codeTexts[c] = C.CString(c.String())
	}
	codeTexts[ffi.HostCodeMax] = C.CString(ffi.HostCodeMax.String())
}

// async_version returns "libasync X.Y.Z (abi 1, driver NAME)".
//
//export async_version
func async_version() *C.char { return versionText }

// async_abi_version returns ASYNC_ABI_VERSION of this library.
//
//export async_abi_version
func async_abi_version() C.int32_t { return ffi.ABIVersion }

// async_strerror returns static text for any code.
//
//export async_strerror
func async_strerror(code C.int32_t) *C.char {
	c := ffi.Code(code)
	if c < ffi.HostCodeMax {
		c = ffi.HostCodeMax
	}
	if s, ok := codeTexts[c]; ok {
		return s
	}
	return unknownText
}
