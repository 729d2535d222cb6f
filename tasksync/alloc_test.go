//go:build !race

// The race detector changes allocation counts, so these run without it.

package tasksync

import (
	"testing"

	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/leakcheck"
)

// TestUncontendedAllocateNothing checks the promise of the semaphore and
// the locks: an uncontended acquire and release, through the Try methods or
// through a reused future, allocate nothing.
func TestUncontendedAllocateNothing(t *testing.T) {
	leakcheck.Check(t)
	s, _ := NewSemaphore(4)
	var m Mutex
	var rw RWMutex
	cx := future.NewContext(future.Waker{}, nil)
	acq, lock, rlock := s.Acquire(2), m.Lock(), rw.RLock()
	cases := map[string]func(){
		"Semaphore.TryAcquire": func() {
			p, _ := s.TryAcquire(2)
			p.Release()
		},
		"Semaphore.Acquire": func() {
			acq.Reset()
			p := acq.Poll(cx)
			r, _ := p.Value()
			r.Value.Release()
		},
		"Mutex.TryLock": func() {
			g, _ := m.TryLock()
			g.Unlock()
		},
		"Mutex.Lock": func() {
			lock.Reset()
			g, _ := lock.Poll(cx).Value()
			g.Unlock()
		},
		"RWMutex.RLock": func() {
			rlock.Reset()
			g, _ := rlock.Poll(cx).Value()
			g.Unlock()
		},
	}
	for name, fn := range cases {
		if a := testing.AllocsPerRun(100, fn); a != 0 {
			t.Errorf("%s: %v allocations, want 0", name, a)
		}
	}
}

// TestPendingPollsAllocateNothing: polling a waiting future again
// allocates nothing.
func TestPendingPollsAllocateNothing(t *testing.T) {
	leakcheck.Check(t)
	s, _ := NewSemaphore(0)
	var m Mutex
	held, _ := m.TryLock()
	w := &wakeCounter{}
	cx := future.NewContext(future.WakerFor(w), nil)
	acq, lock := s.Acquire(1), m.Lock()
	cases := map[string]func(){
		"Semaphore.Acquire": func() { acq.Poll(cx) },
		"Mutex.Lock":        func() { lock.Poll(cx) },
	}
	for name, fn := range cases {
		fn() // the first poll queues
		if a := testing.AllocsPerRun(100, fn); a != 0 {
			t.Errorf("%s: %v allocations per poll, want 0", name, a)
		}
	}
	acq.Drop()
	lock.Drop()
	held.Unlock()
}
