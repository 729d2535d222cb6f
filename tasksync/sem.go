package tasksync

import (
	"sync"
	"sync/atomic"

	"github.com/libasync/libasync/future"
)

// sem is the weighted, FIFO-fair counting semaphore under Semaphore, Mutex
// and RWMutex. Permits in use and two flags share one atomic word, so that
// an uncontended acquire and release are one compare-and-swap each; mu
// guards the wait list and every change made while someone waits.
//
// Invariants, under mu: the list is empty exactly when stWaiters is clear;
// while it is not empty, the head's request does not fit (grant runs after
// every change that frees permits). The fast paths act only while
// stWaiters and stClosed are clear, and by compare-and-swap on the whole
// word, so one that raced with the setting of a flag fails and retries on
// the slow path: with stWaiters set, only holders of mu change the word.
type sem struct {
	state    atomic.Uint64 // used<<stShift | stClosed | stWaiters
	capacity atomic.Int64  // permits in all: in use plus free
	mu       sync.Mutex
	waiters  future.WaitList[int64] // Data: the permits the waiter asks for
}

const (
	stWaiters uint64 = 1 << iota // the wait list is not empty: acquires queue, releases go through mu
	stClosed                     // Close was called: acquires fail
	stShift   = iota             // the permits in use are the bits above the flags
)

// MaxPermits is the most permits a Semaphore can have, and the largest
// request: the count, shifted past the state word's flags, must fit in 64
// bits, with room for a request on top.
const MaxPermits = 1<<61 - 1

func used(st uint64) int64 { return int64(st >> stShift) }

func bits(n int64) uint64 { return uint64(n) << stShift }

// Readers of the free count load the state word before the capacity. Forget
// lowers the capacity before the permits in use, so that such a reader,
// seeing a lowered use, also sees the lowered capacity, and a concurrent
// Forget can only make it see fewer free permits than there are, never
// more; AddPermits raises the capacity and then grants under mu, so a
// reader that missed the raise queues and is granted by it.

// tryAcquire takes n permits without waiting: it fails with ErrNoPermits
// when fewer are free or others wait (they come first), and with
// future.ErrClosed once closed.
func (s *sem) tryAcquire(n int64) error {
	for {
		st := s.state.Load()
		if st&stClosed != 0 {
			return future.ErrClosed
		}
		if st&stWaiters != 0 || used(st)+n > s.capacity.Load() {
			return ErrNoPermits
		}
		// The CAS publishes nothing but the count: what the releaser
		// wrote before releasing reaches the acquirer through this word,
		// as Go's atomics are sequentially consistent.
		if s.state.CompareAndSwap(st, st+bits(n)) {
			return nil
		}
	}
}

// acquireOrQueue is the first attempt under mu of a request that the fast
// path could not serve: it takes the permits if the list is empty and they
// fit, and otherwise queues w (with waker wk) after setting stWaiters. It
// reports whether the permits were taken, or future.ErrClosed.
func (s *sem) acquireOrQueue(w *future.Waiter[int64], wk future.Waker) (bool, error) {
	n := w.Data
	for {
		st := s.state.Load()
		if st&stClosed != 0 {
			return false, future.ErrClosed
		}
		if st&stWaiters == 0 && used(st)+n <= s.capacity.Load() {
			if s.state.CompareAndSwap(st, st+bits(n)) {
				return true, nil
			}
			continue // a fast path changed the count meanwhile
		}
		// Setting the flag by CAS makes any fast path that loaded the
		// word before fail; from here on they all come through mu.
		if st&stWaiters != 0 || s.state.CompareAndSwap(st, st|stWaiters) {
			s.waiters.Wait(w, wk)
			return false, nil
		}
	}
}

// release gives back n permits, handing them to waiters in order. It fails
// with ErrNotHeld, and gives back nothing, if fewer than n are in use.
func (s *sem) release(n int64) error {
	for {
		st := s.state.Load()
		if used(st) < n {
			return ErrNotHeld
		}
		if st&stWaiters != 0 {
			break
		}
		if s.state.CompareAndSwap(st, st-bits(n)) {
			return nil
		}
	}
	s.mu.Lock()
	if err := s.unuse(n); err != nil {
		s.mu.Unlock()
		return err
	}
	s.grant()
	return nil
}

// unuse takes n off the permits in use; the caller holds mu. A CAS, since
// the list may have emptied before mu was taken, letting fast paths back
// in.
func (s *sem) unuse(n int64) error {
	for {
		st := s.state.Load()
		if used(st) < n {
			return ErrNotHeld
		}
		if s.state.CompareAndSwap(st, st-bits(n)) {
			return nil
		}
	}
}

// grant hands free permits to the waiters at the head of the list, in
// order, for as long as the head's request fits. Called with mu held, it
// returns with mu released; each waker is woken outside mu, so that the
// woken task, on another worker, does not find mu taken, and mu is taken
// again only if the next request fits too.
func (s *sem) grant() {
	w := s.waiters.Front()
	if w == nil || used(s.state.Load())+w.Data > s.capacity.Load() {
		s.mu.Unlock()
		return
	}
	for {
		// The list is not empty, so stWaiters is set and only holders of
		// mu change the word: a plain store of the new count is exact.
		st := s.state.Load() + bits(w.Data)
		wk, _ := s.waiters.WakeOne(future.WokenOne)
		w = s.waiters.Front()
		if w == nil {
			st &^= stWaiters // the fast paths may go again
		}
		s.state.Store(st)
		more := w != nil && used(st)+w.Data <= s.capacity.Load()
		s.mu.Unlock()
		wk.Wake()
		if !more {
			return
		}
		s.mu.Lock()
		if w = s.waiters.Front(); w == nil || used(s.state.Load())+w.Data > s.capacity.Load() {
			s.mu.Unlock() // taken meanwhile by another grant, or left
			return
		}
	}
}

// leave takes an abandoned waiter off the list; permits it had been handed
// go back, and the next waiters get what now fits. Called with mu held, it
// returns with mu released.
func (s *sem) leave(w *future.Waiter[int64]) {
	n := w.Data
	if s.waiters.Abandon(w) {
		// Handed over but never taken: the count includes them. It falls
		// short only after a copy of a Permit was released twice (misuse
		// that already gave these back), so there is nothing left to do.
		_ = s.unuse(n)
	}
	if s.waiters.Front() == nil {
		s.clearWaiters()
	}
	s.grant()
}

// clearWaiters clears stWaiters once the list is empty; the caller holds
// mu.
func (s *sem) clearWaiters() {
	for {
		st := s.state.Load()
		if st&stWaiters == 0 || s.state.CompareAndSwap(st, st&^stWaiters) {
			return
		}
	}
}

// addPermits raises the capacity by n and grants what now fits.
func (s *sem) addPermits(n int64) error {
	if n < 0 || n > MaxPermits {
		return ErrInvalid
	}
	s.mu.Lock()
	c := s.capacity.Load()
	if c > MaxPermits-n {
		s.mu.Unlock()
		return ErrInvalid
	}
	s.capacity.Store(c + n) // under mu: the capacity's writers take it
	s.grant()
	return nil
}

// forget removes n permits in use from the semaphore altogether, or fails
// with ErrNotHeld when fewer are in use.
func (s *sem) forget(n int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if used(s.state.Load()) < n {
		return ErrNotHeld
	}
	// Capacity first, then use: see the ordering note above tryAcquire.
	// Nothing else lowers the use while mu is held, except a release on
	// the fast path, so the check above can go stale only that way.
	s.capacity.Add(-n)
	if err := s.unuse(n); err != nil {
		s.capacity.Add(n)
		return err
	}
	return nil
}

// close makes every later acquire fail and wakes every waiter, which then
// fails too; permits already handed over stay with their holders.
func (s *sem) close() {
	s.mu.Lock()
	for {
		st := s.state.Load()
		if s.state.CompareAndSwap(st, (st|stClosed)&^stWaiters) {
			break
		}
	}
	s.waiters.WakeAll()
	s.mu.Unlock()
}

// free returns the permits free now (a snapshot).
func (s *sem) free() int64 {
	st := s.state.Load()
	return max(s.capacity.Load()-used(st), 0)
}

// lazyCapacity gives a zero semaphore the capacity c of the lock built on
// it (Mutex, RWMutex), and returns s. The locks call it before every
// operation, so the capacity is set before any count is taken against it;
// it never changes afterwards.
func (s *sem) lazyCapacity(c int64) *sem {
	if s.capacity.Load() == 0 {
		s.capacity.CompareAndSwap(0, c)
	}
	return s
}

// acquire is the waiting state of a request for w.Data permits, shared by
// AcquireFuture and LockFuture.
type acquire struct {
	s *sem
	w future.Waiter[int64]
	// waiting is the future's own note that its last poll queued it (only
	// its owner touches it), so that Drop and Reset after a Ready, the
	// common case, need not take mu.
	waiting bool
}

func newAcquire(s *sem, n int64) acquire {
	return acquire{s: s, w: future.Waiter[int64]{Data: n}}
}

// reset abandons a waiting request and makes a new one of the same size.
func (a *acquire) reset() {
	a.drop()
	*a = newAcquire(a.s, a.w.Data)
}

// poll takes the permits or queues for them; it reports whether they are
// the caller's now, or an error (future.ErrClosed). Neither means Pending.
func (a *acquire) poll(cx *future.Context) (bool, error) {
	s := a.s
	if !a.waiting {
		err := s.tryAcquire(a.w.Data)
		if err != ErrNoPermits {
			return err == nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if a.waiting {
		switch a.w.Woken() {
		case future.WokenOne: // grant took w off the list and counted the permits
			a.waiting = false
			s.waiters.Leave(&a.w)
			return true, nil
		case future.WokenAll: // close
			a.waiting = false
			s.waiters.Leave(&a.w)
			return false, future.ErrClosed
		}
		s.waiters.Wait(&a.w, cx.Waker()) // refreshes the waker
		return false, nil
	}
	ok, err := s.acquireOrQueue(&a.w, cx.Waker())
	a.waiting = !ok && err == nil
	return ok, err
}

// drop abandons a waiting request: it leaves the list, and permits handed
// to it go to the next waiters.
func (a *acquire) drop() {
	if !a.waiting {
		return
	}
	a.waiting = false
	a.s.mu.Lock()
	a.s.leave(&a.w)
}
