package tasksync

import "github.com/libasync/libasync/future"

// Mutex is a mutual-exclusion lock whose Lock is a future: a task that
// waits for it holds no goroutine, only its place in the queue. It is
// FIFO-fair: the lock goes to the waiters in the order they asked for it,
// handed over directly at each Unlock, so no waiter is overtaken by a
// later one; an uncontended Lock and Unlock are one atomic
// compare-and-swap each.
//
// Locking yields a Guard, and the Guard's Unlock releases the lock. As
// with sync.Mutex, the lock belongs to no task or goroutine: a Guard may
// be unlocked anywhere. Unlike sync.Mutex it may be held across a Pending
// poll (an await), which is what it is for; a sync.Mutex held there would
// block the executor's worker for any other task that wants it.
//
// The zero Mutex is unlocked and ready to use. A Mutex must not be copied
// after first use. All methods are safe from any goroutine.
type Mutex struct{ s sem }

// Lock returns a future that is Ready with a Guard once the lock is the
// caller's. The request queues at its first poll.
//
// Cancel safety: cancel safe, except for the place in the queue. Dropping
// the future before it is Ready gives up its place (a new Lock queues at
// the tail); if the lock had been handed to it already, it goes on to the
// next waiter, so the lock is never left taken by nobody.
func (m *Mutex) Lock() *LockFuture { return newLockFuture(m.s.lazyCapacity(1), 1) }

// TryLock takes the lock if it is free and nobody waits for it, without
// waiting, and reports whether it did.
func (m *Mutex) TryLock() (Guard, bool) { return tryLock(m.s.lazyCapacity(1), 1) }

// RWMutex is a reader/writer lock whose locks are futures, FIFO-fair as
// Mutex: readers share the lock, a writer has it alone, and requests are
// served in the order they were made, so a waiting writer holds up readers
// that come after it and is never starved by them. At most MaxReaders read
// guards exist at once; further readers wait.
//
// The zero RWMutex is unlocked and ready to use. An RWMutex must not be
// copied after first use. All methods are safe from any goroutine.
type RWMutex struct{ s sem }

// MaxReaders is the most read guards an RWMutex has out at once; a writer
// takes all of them.
const MaxReaders = 1 << 30

// RLock returns a future that is Ready with a read Guard once the caller
// shares the lock. Cancel safety is Mutex.Lock's.
func (rw *RWMutex) RLock() *LockFuture { return newLockFuture(rw.s.lazyCapacity(MaxReaders), 1) }

// Lock returns a future that is Ready with a write Guard once the caller
// has the lock alone. Cancel safety is Mutex.Lock's: a writer dropped while
// it waits lets the readers queued behind it in.
func (rw *RWMutex) Lock() *LockFuture {
	return newLockFuture(rw.s.lazyCapacity(MaxReaders), MaxReaders)
}

// TryRLock takes a read lock if no writer holds or waits for the lock,
// without waiting, and reports whether it did.
func (rw *RWMutex) TryRLock() (Guard, bool) { return tryLock(rw.s.lazyCapacity(MaxReaders), 1) }

// TryLock takes the write lock if nobody holds or waits for the lock,
// without waiting, and reports whether it did.
func (rw *RWMutex) TryLock() (Guard, bool) { return tryLock(rw.s.lazyCapacity(MaxReaders), MaxReaders) }

func tryLock(s *sem, n int64) (Guard, bool) {
	if s.tryAcquire(n) != nil {
		return Guard{}, false
	}
	return Guard{Permit{s: s, n: n}}, true
}

// Guard is a held lock of a Mutex or RWMutex (read or write), released by
// Unlock. Go has no destructors: a Guard is unlocked by calling Unlock
// (`defer g.Unlock()` is the idiom), and one never unlocked keeps the lock
// taken. The zero Guard holds nothing.
//
// A Guard is a small value; unlock it through one variable only. Unlock
// clears that variable, so unlocking twice through it is harmless; a copy
// unlocked as well is misuse that is caught (ErrNotHeld) only when the lock
// is no longer held by anyone, and otherwise releases a later holder's
// lock.
type Guard struct{ p Permit }

// Unlock releases the lock, handing it to the next waiter, and clears g.
// Unlocking a cleared or zero Guard does nothing and returns nil. It returns
// ErrNotHeld, releasing nothing, when the lock is not held (a copy of g was
// unlocked already).
func (g *Guard) Unlock() error { return g.p.Release() }

// LockFuture is the future of Mutex.Lock, RWMutex.RLock and RWMutex.Lock.
// Reset lets one LockFuture take the same lock any number of times without
// an allocation.
type LockFuture struct{ a acquire }

func newLockFuture(s *sem, n int64) *LockFuture { return &LockFuture{newAcquire(s, n)} }

// Poll takes the lock if it is free and nobody waits, or waits for it in
// the queue.
func (f *LockFuture) Poll(cx *future.Context) future.Poll[Guard] {
	// A lock's semaphore is never closed and its requests are in range,
	// so poll has no error to report.
	if ok, _ := f.a.poll(cx); !ok {
		return future.Pending[Guard]()
	}
	return future.Ready(Guard{Permit{s: f.a.s, n: f.a.w.Data}})
}

// Drop abandons a waiting request, as described at Mutex.Lock.
func (f *LockFuture) Drop() { f.a.drop() }

// Reset makes f a new request for the same lock, so that it may be polled
// again after it was Ready. A request still waiting is abandoned first, as
// by Drop; a Guard it yielded is not affected.
func (f *LockFuture) Reset() { f.a.reset() }
