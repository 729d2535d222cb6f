package executor

import (
	"slices"
	"sync"
	"sync/atomic"
)

// idleSet coordinates the Runtime's idle workers (the scheme of Tokio's
// scheduler): a worker that runs out of tasks becomes "searching" and tries
// to steal; one that finds nothing parks. A new task wakes a parked worker
// only when nobody searches (a searcher will find it), so one wake unparks at
// most one worker, and a burst of wakes does not wake them all.
type idleSet struct {
	// state packs the number of searching workers (low 32 bits) and of
	// unparked workers (high 32 bits). Producers read it without the lock
	// to skip the common case (everybody busy, or someone searching);
	// changes that make a worker parked or unparked happen under mu.
	state atomic.Uint64
	n     uint32

	mu       sync.Mutex
	sleepers []int // parked workers, the most recent last
}

const unparkedOne = 1 << 32

func (s *idleSet) init(n int) {
	s.n = uint32(n)
	s.state.Store(uint64(n) * unparkedOne)
	s.sleepers = make([]int, 0, n)
}

func searchingOf(st uint64) uint32 { return uint32(st) }
func unparkedOf(st uint64) uint32  { return uint32(st >> 32) }

// shouldWake reports whether a new task should unpark a worker: nobody is
// searching, and somebody is parked.
func (s *idleSet) shouldWake() bool {
	st := s.state.Load()
	return searchingOf(st) == 0 && unparkedOf(st) < s.n
}

// toSearching lets a worker start searching unless half of them already
// do (more searchers only contend on the same queues).
func (s *idleSet) toSearching() bool {
	// The check and the add are not one step, so a few more may search
	// than the bound; the bound is a throttle, not an invariant.
	if 2*searchingOf(s.state.Load()) >= s.n {
		return false
	}
	s.state.Add(1)
	return true
}

// fromSearching ends a search that found work; true if it was the last
// searcher (which must then make sure that remaining work has a searcher).
func (s *idleSet) fromSearching() bool {
	// Sequentially consistent with the producers' shouldWake: either a
	// producer sees this decrement (and wakes someone), or the caller's
	// following look at the queues sees the producer's task.
	return searchingOf(s.state.Add(^uint64(0))+1) == 1
}

// toParked records worker i as parked; true if it was the last searcher.
func (s *idleSet) toParked(i int, searching bool) bool {
	dec := uint64(unparkedOne)
	if searching {
		dec++
	}
	s.mu.Lock()
	prev := s.state.Add(-dec) + dec
	s.sleepers = append(s.sleepers, i)
	s.mu.Unlock()
	return searching && searchingOf(prev) == 1
}

// pick takes a parked worker to wake, counted as unparked and searching,
// preferring one that is not waiting in the driver (avoid), so that the
// driver keeps its waiter; false when no wake is needed.
func (s *idleSet) pick(avoid int) (int, bool) {
	if !s.shouldWake() {
		return 0, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.shouldWake() {
		return 0, false
	}
	k := len(s.sleepers) - 1
	if s.sleepers[k] == avoid && k > 0 {
		k--
	}
	i := s.sleepers[k]
	s.sleepers = slices.Delete(s.sleepers, k, k+1)
	s.state.Add(1 + unparkedOne)
	return i, true
}

// unparkSelf takes worker i off the parked list when it woke with work of
// its own; false if a waker took it off first (and counted it searching).
func (s *idleSet) unparkSelf(i int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := slices.Index(s.sleepers, i)
	if k < 0 {
		return false
	}
	s.sleepers = slices.Delete(s.sleepers, k, k+1)
	s.state.Add(unparkedOne)
	return true
}

// isParked reports whether worker i is still on the parked list (a wake-up
// with no waker: a driver timeout or event).
func (s *idleSet) isParked(i int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Contains(s.sleepers, i)
}

// The states of a parker.
const (
	parkEmpty    uint32 = iota // running
	parkCond                   // asleep on its channel
	parkDriver                 // asleep in the driver's Wait
	parkNotified               // woken before (or while) going to sleep
)

// parker puts one worker to sleep, either in the driver (when no other
// worker waits there) or on a channel, and wakes it either way.
type parker struct {
	// state moves by swaps and CASes only; a notification that lands
	// while the worker runs leaves parkNotified, which the next sleep
	// consumes instead of sleeping, so no wake is lost.
	state atomic.Uint32
	// ch carries the one token of a wake of a parkCond sleep: a token is
	// sent only by the unpark that swapped parkCond away, and the state
	// returns to parkCond only after the sleeper took it.
	ch chan struct{}
}

// unpark wakes the worker, or makes its next sleep return at once.
// wakeDriver is called when it sleeps in the driver.
func (p *parker) unpark(wakeDriver func()) {
	switch p.state.Swap(parkNotified) {
	case parkCond:
		p.ch <- struct{}{}
	case parkDriver:
		wakeDriver()
	}
}
