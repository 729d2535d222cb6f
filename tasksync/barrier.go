package tasksync

import (
	"sync"

	"github.com/libasync/libasync/future"
)

// Barrier lets a fixed number of tasks wait until all of them have
// arrived: each calls Wait, and the n-th arrival releases every waiter at
// once. The barrier then starts over, so the same n tasks may meet at it
// again and again (a generation per meeting). All methods are safe from any
// goroutine.
type Barrier struct {
	mu         sync.Mutex
	n          int
	arrived    int    // arrivals in the current generation
	generation uint64 // meetings completed
	waiters    future.WaitList[struct{}]
}

// NewBarrier returns a barrier for n tasks, or ErrInvalid when n is below 1.
func NewBarrier(n int) (*Barrier, error) {
	if n < 1 {
		return nil, ErrInvalid
	}
	return &Barrier{n: n}, nil
}

// Wait returns a future that arrives at the barrier at its first poll and
// is Ready once n arrivals of the same generation have been made: Ready
// with true for exactly one of them (the leader, the arrival that completed
// the generation, Ready at once) and false for the others.
//
// Cancel safety: not cancel safe in one window. Dropping the future while
// its generation is incomplete withdraws its arrival, so the barrier waits
// for another and is never completed by a task that went away. Dropping it
// after the generation completed but before it was polled again loses that
// pass: the others went on, and a new Wait arrives at the next generation.
func (b *Barrier) Wait() *BarrierWaitFuture { return &BarrierWaitFuture{b: b} }

// BarrierWaitFuture is the future of Barrier.Wait. Reset lets one
// BarrierWaitFuture wait at the barrier any number of times without an
// allocation.
type BarrierWaitFuture struct {
	b *Barrier
	w future.Waiter[struct{}]
	// gen is the generation this wait arrived in, plus one; 0 before the
	// first poll and after the end. Only the owner touches it.
	gen uint64
}

// Poll arrives at its first call, and is Ready once the generation is
// complete.
func (f *BarrierWaitFuture) Poll(cx *future.Context) future.Poll[bool] {
	b := f.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if f.gen == 0 {
		b.arrived++
		if b.arrived == b.n {
			b.arrived = 0
			b.generation++
			b.waiters.WakeAll()
			return future.Ready(true)
		}
		f.gen = b.generation + 1
	} else if b.generation+1 != f.gen {
		b.waiters.Leave(&f.w)
		f.gen = 0
		return future.Ready(false)
	}
	b.waiters.Wait(&f.w, cx.Waker())
	return future.Pending[bool]()
}

// Drop withdraws an arrival whose generation is not complete.
func (f *BarrierWaitFuture) Drop() {
	if f.gen == 0 {
		return
	}
	b := f.b
	b.mu.Lock()
	if b.generation+1 == f.gen {
		b.arrived--
	}
	b.waiters.Leave(&f.w)
	b.mu.Unlock()
	f.gen = 0
}

// Reset makes f a new Wait at the same barrier, so that it may be polled
// again after it was Ready. A wait still pending is withdrawn first, as by
// Drop.
func (f *BarrierWaitFuture) Reset() { f.Drop() }
