//go:build (darwin || linux || netbsd || windows) && (amd64 || arm64)

// Package ffi is the Go side of libasync's C ABI, usable without cgo: the
// ABI's types and codes, the handle table through which objects cross the
// boundary, foreign futures (a host's poll and drop functions, called through
// purego), the static vtable of runtime-made wakers, the notifier, and the
// wrapper that owns a host's waker clone and uses it up exactly once.
//
// A Go program built with CGO_ENABLED=0 loads a C library of futures with
// purego (on Windows, with LoadLibrary), wraps each {poll, drop, state}
// triple with NewForeign and spawns it on an executor like any other
// future. The c-shared library libasync.so (package capi) is built on this
// package, with a Caller that marks the threads running host code so that
// blocking calls from them are refused.
//
// The package is built where purego calls C functions without extra build
// flags: Linux, macOS, NetBSD and Windows on amd64 and arm64 (FreeBSD needs
// a -gcflags setting for purego's fakecgo, so it is left out). On Windows
// the notifier's descriptor is a SOCKET, and libasync.dll is the library.
package ffi

import (
	"errors"
	"fmt"
)

// ABIVersion is ASYNC_ABI_VERSION of the contract this package implements.
const ABIVersion = 1

// Code is a result code of the C ABI: OK, Pending, or a negative error.
type Code int32

// The codes of the contract (libasync.h). -1 to -99 are reserved for
// libasync; hosts fail their futures with -100 and below.
const (
	OK        Code = 0
	Pending   Code = 1
	EINVAL    Code = -1
	ECLOSED   Code = -2
	ECANCELED Code = -3
	ETIMEDOUT Code = -4
	EPANIC    Code = -5
	EIO       Code = -6
	ENOTSUP   Code = -7

	// HostCodeMax is the highest code a host may fail a future with.
	HostCodeMax Code = -100
)

var codeText = map[Code]string{
	OK:        "ok",
	Pending:   "pending",
	EINVAL:    "invalid argument",
	ECLOSED:   "closed",
	ECANCELED: "canceled",
	ETIMEDOUT: "timed out",
	EPANIC:    "panic in the runtime",
	EIO:       "operating-system error",
	ENOTSUP:   "not supported",
}

// String returns the contract's static text for c; codes of hosts are
// "host error", anything else "unknown".
func (c Code) String() string {
	if s, ok := codeText[c]; ok {
		return s
	}
	if c <= HostCodeMax {
		return "host error"
	}
	return "unknown"
}

// Error is a failure with its code, a message for async_last_error and, for
// EIO, the operating system's error number.
type Error struct {
	Code  Code
	Msg   string
	Errno int64
}

// Error returns the message.
func (e *Error) Error() string { return e.Msg }

// Errorf returns an *Error with code c and a formatted message.
func Errorf(c Code, format string, args ...any) *Error {
	return &Error{Code: c, Msg: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of err: err's own when it is (or wraps) an *Error,
// EINVAL otherwise; OK for nil.
func CodeOf(err error) Code {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINVAL
}

// VTable is async_waker_vtable: four C function pointers.
type VTable struct {
	Clone     uintptr // void (*)(const void *data, async_waker *out)
	Wake      uintptr // void (*)(const void *data)
	WakeByRef uintptr // void (*)(const void *data)
	Drop      uintptr // void (*)(const void *data)
}

// Waker is async_waker: an opaque data word and its vtable. Data is a
// uintptr, never a Go pointer, because the host may put any bit pattern in
// it. VTable points to C memory or to a Go global, neither of which moves.
type Waker struct {
	Data   uintptr
	VTable *VTable
}
