//go:build (darwin || linux || netbsd || windows) && (amd64 || arm64)

package ffi

import (
	"sync/atomic"
	"unsafe"

	"github.com/ebitengine/purego"
)

// Caller calls a host's C functions. The default calls them through purego;
// libasync.so installs one that goes through small C trampolines which mark
// the calling thread as running host code, so that the blocking functions of
// the ABI can refuse to run there.
type Caller interface {
	// Poll calls async_poll_fn fn(state, w, out).
	Poll(fn, state uintptr, w *Waker, out *uint64) Code
	// Call1 calls a void function of one pointer argument (a drop
	// function, or a vtable's wake, wake_by_ref or drop).
	Call1(fn, arg uintptr)
	// Clone calls a vtable's clone(data, out).
	Clone(fn, data uintptr, out *Waker)
}

// puregoCaller is the default Caller.
type puregoCaller struct{}

func (puregoCaller) Poll(fn, state uintptr, w *Waker, out *uint64) Code {
	r, _, _ := purego.SyscallN(fn, state, uintptr(unsafe.Pointer(w)), uintptr(unsafe.Pointer(out)))
	return Code(int32(r))
}

func (puregoCaller) Call1(fn, arg uintptr) { purego.SyscallN(fn, arg) }

func (puregoCaller) Clone(fn, data uintptr, out *Waker) {
	purego.SyscallN(fn, data, uintptr(unsafe.Pointer(out)))
}

type callerBox struct{ c Caller }

// caller is read on every host call and replaced once, at start-up; the
// atomic pointer makes the replacement visible without a lock.
var caller atomic.Pointer[callerBox]

func init() { caller.Store(&callerBox{puregoCaller{}}) }

// SetCaller makes c the Caller of every later host call. Programs call it
// once, before any foreign future or host waker exists.
func SetCaller(c Caller) {
	if c != nil {
		caller.Store(&callerBox{c})
	}
}

func host() Caller { return caller.Load().c }
