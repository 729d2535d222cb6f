//go:build (darwin || linux || netbsd || windows) && (amd64 || arm64)

package ffi

import (
	"runtime"
	"sync"
)

// HostWaker owns at most one clone of a host's waker on behalf of one
// runtime future, and uses each clone up exactly once: Set replaces it
// (dropping the older clone), Wake wakes and releases it, Clear drops it.
// After Clear returns, no clone is held and no call into the host's vtable
// on a clone is running on another thread, so the host may free the memory
// its waker points to. Wake may be called from the Go side as a
// future.Wakeable.
//
// A runtime-made waker (one whose vtable is RuntimeVTable's, such as a
// notifier's) is cloned, woken and dropped by calling the vtable's Go
// functions directly: going through its C pointers would cross from Go into
// C and back into Go for each call, which is the most expensive thing a poll
// does.
type HostWaker struct {
	mu   sync.Mutex
	held bool
	w    Waker
	// busy counts Wake calls in flight on other goroutines, with the OS
	// thread of each, so that Clear can wait for them but not for a wake
	// whose host code re-entered the library on its own thread.
	busy []int
	// goBusy counts wakes of a runtime-made clone in flight; they run Go
	// code only, never the host's, so they never re-enter Clear.
	goBusy  int
	drained *sync.Cond
}

// own reports whether w is runtime-made: its vtable is the runtime's own.
func own(w *Waker) bool {
	v := vtable.Load()
	return v != nil && w.VTable == v
}

// clone returns a new reference of w.
func clone(w *Waker) Waker {
	if own(w) {
		var c Waker
		WakerClone(w.Data, &c)
		return c
	}
	// In the heap: the host writes it through a pointer it is given.
	c := new(Waker)
	host().Clone(w.VTable.Clone, w.Data, c)
	return *c
}

// drop uses the reference w up without waking it.
func drop(w Waker) {
	if own(&w) {
		WakerDrop(w.Data)
		return
	}
	host().Call1(w.VTable.Drop, w.Data)
}

// Set replaces the held clone with a clone of w. A w equal to the held
// clone (same data and vtable) keeps the clone: it wakes the same thing.
func (s *HostWaker) Set(w *Waker) {
	s.mu.Lock()
	if s.held && s.w == *w {
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	c := clone(w)
	s.mu.Lock()
	old, had := s.w, s.held
	s.w, s.held = c, true
	s.mu.Unlock()
	if had {
		drop(old)
	}
}

// Wake uses the held clone up by waking it; without one it does nothing.
func (s *HostWaker) Wake() {
	s.mu.Lock()
	if !s.held {
		s.mu.Unlock()
		return
	}
	if own(&s.w) {
		w := s.w
		s.held = false
		s.goBusy++
		s.mu.Unlock()
		defer s.done(goThread)
		WakerWake(w.Data)
		return
	}
	s.mu.Unlock()
	// Locked so that the thread recorded is the one that calls the host.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tid := threadID()
	s.mu.Lock()
	if !s.held {
		s.mu.Unlock()
		return
	}
	w := s.w
	s.held = false
	s.busy = append(s.busy, tid)
	s.mu.Unlock()
	defer s.done(tid)
	host().Call1(w.VTable.Wake, w.Data)
}

// goThread stands for the thread of a wake of a runtime-made clone, which
// is counted in goBusy rather than listed in busy; no OS thread has it.
const goThread = -1

// done ends a wake begun on thread tid and lets a waiting Clear recheck.
func (s *HostWaker) done(tid int) {
	s.mu.Lock()
	if tid == goThread {
		s.goBusy--
	} else {
		for i, t := range s.busy {
			if t == tid {
				s.busy = append(s.busy[:i], s.busy[i+1:]...)
				break
			}
		}
	}
	if s.drained != nil {
		s.drained.Broadcast()
	}
	s.mu.Unlock()
}

// Clear drops the held clone, if any, and returns once no Wake on another
// thread is still inside the host's vtable.
func (s *HostWaker) Clear() {
	s.mu.Lock()
	w, had := s.w, s.held
	s.held = false
	s.w = Waker{}
	s.mu.Unlock()
	if had {
		drop(w)
	}
	s.mu.Lock()
	if len(s.busy) == 0 && s.goBusy == 0 {
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tid := threadID()
	s.mu.Lock()
	for s.othersBusy(tid) {
		if s.drained == nil {
			s.drained = sync.NewCond(&s.mu)
		}
		s.drained.Wait()
	}
	s.mu.Unlock()
}

func (s *HostWaker) othersBusy(tid int) bool {
	if s.goBusy > 0 {
		return true
	}
	for _, t := range s.busy {
		if t != tid || tid == 0 {
			return true
		}
	}
	return false
}
