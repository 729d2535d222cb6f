package tasksync

import "github.com/libasync/libasync/future"

// Semaphore is a weighted counting semaphore whose Acquire is a future: a
// task that waits for permits holds no goroutine, only its place in the
// semaphore's queue.
//
// Permits are handed out in the order they were asked for (FIFO): a request
// that does not fit waits, and requests made after it wait behind it even
// if they would fit, so a large request is never starved by small ones.
// Permits given back go straight to the waiters at the head of the queue.
//
// The zero Semaphore has no permits (AddPermits gives it some); NewSemaphore
// makes one with a count. A Semaphore must not be copied after first use.
// All methods are safe from any goroutine.
type Semaphore struct{ s sem }

// NewSemaphore returns a semaphore with the given number of permits, or
// ErrInvalid when permits is negative or above MaxPermits.
func NewSemaphore(permits int64) (*Semaphore, error) {
	if permits < 0 || permits > MaxPermits {
		return nil, ErrInvalid
	}
	s := new(Semaphore)
	s.s.capacity.Store(permits)
	return s, nil
}

// Acquire returns a future that is Ready with Ok and a Permit for n permits
// once they are this request's, with Fail(future.ErrClosed) if the
// semaphore is closed first, or with Fail(ErrInvalid) at once when n is
// below 1 or above MaxPermits. A request for more permits than the
// semaphore will ever have waits forever, and holds up every request
// behind it.
//
// The request takes its place in the queue at its first poll, not here.
//
// Cancel safety: cancel safe, except for the place in the queue. Dropping
// the future before it is Ready gives up its place (a new Acquire queues
// at the tail); permits already handed to it go to the next waiters, so
// none is lost and no waiter behind it misses a wake.
func (s *Semaphore) Acquire(n int64) *AcquireFuture {
	return &AcquireFuture{newAcquire(&s.s, n)}
}

// TryAcquire takes n permits without waiting. It fails with ErrNoPermits
// when fewer than n are free or other requests are waiting (they come
// first), with future.ErrClosed once the semaphore is closed, and with
// ErrInvalid when n is below 1 or above MaxPermits.
func (s *Semaphore) TryAcquire(n int64) (Permit, error) {
	if n < 1 || n > MaxPermits {
		return Permit{}, ErrInvalid
	}
	if err := s.s.tryAcquire(n); err != nil {
		return Permit{}, err
	}
	return Permit{s: &s.s, n: n}, nil
}

// AddPermits adds n permits (n >= 0) and hands them to waiters in order.
// It fails with ErrInvalid, adding nothing, when n is negative or the
// semaphore would have more than MaxPermits.
func (s *Semaphore) AddPermits(n int64) error { return s.s.addPermits(n) }

// Available returns how many permits are free at this moment.
func (s *Semaphore) Available() int64 { return s.s.free() }

// Close closes the semaphore: every waiting Acquire is woken and fails with
// future.ErrClosed, and later Acquire and TryAcquire calls fail with it.
// Permits already held stay valid and may be released. Closing again does
// nothing.
func (s *Semaphore) Close() { s.s.close() }

// IsClosed reports whether Close was called.
func (s *Semaphore) IsClosed() bool { return s.s.state.Load()&stClosed != 0 }

// Permit is a holding of permits from a Semaphore, given back by Release.
// Go has no destructors, so a permit is released by calling Release (`defer
// p.Release()` is the idiom); the permits of one never released stay in use
// for good. The zero Permit holds nothing.
//
// A Permit is a small value; release it through one variable only. Release
// clears that variable, so releasing twice through it is harmless; a copy
// released as well gives the permits back twice, which the semaphore
// refuses with ErrNotHeld only when that is more than it has in use.
type Permit struct {
	s *sem
	n int64
}

// Count returns the number of permits p holds (0 once released).
func (p *Permit) Count() int64 { return p.n }

// Release gives the permits back to the semaphore, where they go to the
// waiters in order, and clears p. Releasing a cleared or zero Permit does
// nothing and returns nil. It returns ErrNotHeld, and gives back nothing,
// when the semaphore has fewer permits in use than p holds (a copy of p
// was released already).
func (p *Permit) Release() error {
	s, n := p.s, p.n
	*p = Permit{}
	if s == nil {
		return nil
	}
	return s.release(n)
}

// Forget removes the permits from the semaphore for good (its capacity
// shrinks by p.Count()) and clears p. Like Release it does nothing for a
// cleared Permit and returns ErrNotHeld when fewer permits are in use.
func (p *Permit) Forget() error {
	s, n := p.s, p.n
	*p = Permit{}
	if s == nil {
		return nil
	}
	return s.forget(n)
}

// AcquireFuture is the future of Semaphore.Acquire. Reset lets one
// AcquireFuture make any number of requests without an allocation.
type AcquireFuture struct{ a acquire }

// Poll takes the permits if they are free and nobody waits, or waits for
// them in the queue.
func (f *AcquireFuture) Poll(cx *future.Context) future.Poll[future.Result[Permit]] {
	n := f.a.w.Data
	if n < 1 || n > MaxPermits {
		return future.Ready(future.Fail[Permit](ErrInvalid))
	}
	ok, err := f.a.poll(cx)
	if err != nil {
		return future.Ready(future.Fail[Permit](err))
	}
	if !ok {
		return future.Pending[future.Result[Permit]]()
	}
	return future.Ready(future.Ok(Permit{s: f.a.s, n: n}))
}

// Drop abandons a waiting request, as described at Acquire.
func (f *AcquireFuture) Drop() { f.a.drop() }

// Reset makes f a new request for the same number of permits of the same
// semaphore, so that it may be polled again after it was Ready. A request
// still waiting is abandoned first, as by Drop; a Permit it yielded is not
// affected.
func (f *AcquireFuture) Reset() { f.a.reset() }
