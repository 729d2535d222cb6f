//go:build (linux || darwin || netbsd || windows) && (amd64 || arm64) && cgo

package main

/*
#include "shim.h"
*/
import "C"

import (
	"github.com/libasync/libasync/capi/ffi"
	"github.com/libasync/libasync/socket"
)

// maxUnixPath is the longest name a Unix domain socket takes (sun_path of
// 108 bytes less the NUL on Linux; the system refuses longer ones where
// sun_path is shorter).
const maxUnixPath = 107

// unixPath validates the path argument of the Unix socket calls.
func unixPath(name string, path *C.char, outNil bool) (string, error) {
	if path == nil || outNil {
		return "", ffi.Errorf(ffi.EINVAL, "libasync: %s: path or out is NULL", name)
	}
	p := C.GoString(path)
	if p == "" || len(p) > maxUnixPath {
		return "", ffi.Errorf(ffi.EINVAL, "libasync: %s: a Unix socket name has 1 to %d bytes, %q has %d", name, maxUnixPath, p, len(p))
	}
	return p, nil
}

// async_unix_listen opens a Unix domain stream listener.
//
//export async_unix_listen
func async_unix_listen(rt C.uint64_t, path *C.char, out *C.uint64_t) (rc C.int32_t) {
	defer guard(&rc)
	r, err := liveRuntime(rt)
	if err != nil {
		return fail(err)
	}
	p, err := unixPath("async_unix_listen", path, out == nil)
	if err != nil {
		return fail(err)
	}
	return listenNow(r, socket.ListenUnix(p), p, out)
}

// async_unix_connect returns a future of a stream connected to a Unix
// domain socket.
//
//export async_unix_connect
func async_unix_connect(rt C.uint64_t, path *C.char, out *C.uint64_t) (rc C.int32_t) {
	defer guard(&rc)
	r, err := lookupRuntime(rt)
	if err != nil {
		return fail(err)
	}
	p, err := unixPath("async_unix_connect", path, out == nil)
	if err != nil {
		return fail(err)
	}
	return connectFuture(r, socket.ConnectUnix(p), out)
}
