//go:build (darwin || linux || netbsd || windows) && (amd64 || arm64)

package ffi

import (
	"sync"
	"sync/atomic"

	"github.com/ebitengine/purego"
)

// Runtime-made wakers share one static vtable and carry a Handle in their
// data word. Cloning one of a task costs nothing; one of a notifier counts a
// reference. Waking or dropping a waker whose handle is gone (its task ended,
// its notifier or runtime closed) does nothing, so they stay safe forever.

// notifierWaker is the object behind a KindNotifierWaker handle: waking it
// queues tag on n. Each reference the host holds counts in refs; the handle
// is released when the last one is used up.
type notifierWaker struct {
	n   *Notifier
	tag uint64
	// refs counts the references the host holds; clone adds, wake and
	// drop subtract. The decrement that reaches zero releases the handle,
	// so it must see every earlier increment: atomic adds are totally
	// ordered per variable.
	refs atomic.Int64
}

var (
	vtableMu sync.Mutex
	// vtable is the runtime-made wakers' vtable, set once (by SetVTable or
	// on first use) and then only read; the atomic pointer publishes it.
	vtable atomic.Pointer[VTable]
)

// SetVTable makes v the vtable of every runtime-made waker created from now
// on. libasync.so passes a static C struct of its exported functions (which
// call WakerClone, WakerWake, WakerWakeByRef and WakerDrop), cheaper to call
// from C than purego callbacks. Without it, the first use builds a vtable of
// purego callbacks.
func SetVTable(v *VTable) {
	if v != nil {
		vtable.Store(v)
	}
}

// RuntimeVTable returns the vtable of runtime-made wakers.
func RuntimeVTable() *VTable {
	if v := vtable.Load(); v != nil {
		return v
	}
	vtableMu.Lock()
	defer vtableMu.Unlock()
	if v := vtable.Load(); v != nil {
		return v
	}
	// Global, so the garbage collector keeps it, and the heap does not
	// move it: C keeps its address. Each callback returns a uintptr,
	// which Windows' callbacks must and C ignores in a void function.
	v := &VTable{
		Clone:     purego.NewCallback(func(data uintptr, out *Waker) uintptr { WakerClone(data, out); return 0 }),
		Wake:      purego.NewCallback(func(data uintptr) uintptr { WakerWake(data); return 0 }),
		WakeByRef: purego.NewCallback(func(data uintptr) uintptr { WakerWakeByRef(data); return 0 }),
		Drop:      purego.NewCallback(func(data uintptr) uintptr { WakerDrop(data); return 0 }),
	}
	vtable.Store(v)
	return v
}

// WakerClone implements the runtime vtable's clone: out gets a reference
// with the same data.
func WakerClone(data uintptr, out *Waker) {
	defer recoverQuietly()
	if obj, ok := Handles.Get(Handle(data)); ok {
		if nw, ok := obj.(*notifierWaker); ok {
			nw.refs.Add(1)
		}
	}
	if out != nil {
		*out = Waker{Data: data, VTable: RuntimeVTable()}
	}
}

// WakerWake implements the runtime vtable's wake: wake_by_ref then drop,
// on one lookup of the handle (the reference being used up keeps it live
// in between).
func WakerWake(data uintptr) {
	defer recoverQuietly()
	h := Handle(data)
	if obj, ok := Handles.Get(h); ok {
		wakeObj(obj)
		dropRef(h, obj)
	}
}

// WakerWakeByRef implements the runtime vtable's wake_by_ref.
func WakerWakeByRef(data uintptr) {
	defer recoverQuietly()
	if obj, ok := Handles.Get(Handle(data)); ok {
		wakeObj(obj)
	}
}

// WakerDrop implements the runtime vtable's drop.
func WakerDrop(data uintptr) {
	defer recoverQuietly()
	h := Handle(data)
	if obj, ok := Handles.Get(h); ok {
		dropRef(h, obj)
	}
}

// wakeObj wakes what a runtime-made waker's handle refers to.
func wakeObj(obj any) {
	switch o := obj.(type) {
	case *Foreign:
		o.wake()
	case *notifierWaker:
		o.n.Notify(o.tag)
	}
}

// dropRef uses up one reference of h, whose object is obj: the last one of
// a notifier's waker releases its handle.
func dropRef(h Handle, obj any) {
	if nw, ok := obj.(*notifierWaker); ok && nw.refs.Add(-1) == 0 {
		Handles.Remove(h)
	}
}

// recoverQuietly stops a panic from unwinding into C, which would crash the
// host: the vtable functions have no way to report one.
func recoverQuietly() { _ = recover() }
