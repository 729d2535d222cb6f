package tasksync

import (
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/leakcheck"
)

func newSem(t *testing.T, n int64) *Semaphore {
	t.Helper()
	s, err := NewSemaphore(n)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSemaphoreTryAcquire(t *testing.T) {
	leakcheck.Check(t)
	s := newSem(t, 3)
	p, err := s.TryAcquire(2)
	if err != nil || p.Count() != 2 {
		t.Fatalf("TryAcquire(2) = %v, %v", p, err)
	}
	if _, err := s.TryAcquire(2); !errors.Is(err, ErrNoPermits) {
		t.Fatalf("TryAcquire(2) with 1 free: %v, want ErrNoPermits", err)
	}
	if s.Available() != 1 {
		t.Fatalf("Available = %d, want 1", s.Available())
	}
	if err := p.Release(); err != nil || p.Count() != 0 {
		t.Fatalf("Release: %v, Count after %d", err, p.Count())
	}
	if err := p.Release(); err != nil {
		t.Fatalf("second Release through the same variable: %v, want nil", err)
	}
	if s.Available() != 3 {
		t.Fatalf("Available = %d after release, want 3", s.Available())
	}
	checkSettled(t, &s.s, 0)
}

func TestSemaphoreInvalid(t *testing.T) {
	leakcheck.Check(t)
	for _, n := range []int64{-1, MaxPermits + 1} {
		if _, err := NewSemaphore(n); !errors.Is(err, ErrInvalid) {
			t.Errorf("NewSemaphore(%d): %v, want ErrInvalid", n, err)
		}
	}
	s := newSem(t, 1)
	for _, n := range []int64{0, -1, MaxPermits + 1} {
		if _, err := s.TryAcquire(n); !errors.Is(err, ErrInvalid) {
			t.Errorf("TryAcquire(%d): %v, want ErrInvalid", n, err)
		}
		if r := mustReady[future.Result[Permit]](t, s.Acquire(n), &wakeCounter{}); !errors.Is(r.Err, ErrInvalid) {
			t.Errorf("Acquire(%d): %v, want ErrInvalid", n, r.Err)
		}
	}
	if err := s.AddPermits(-1); !errors.Is(err, ErrInvalid) {
		t.Errorf("AddPermits(-1): %v", err)
	}
	if err := s.AddPermits(MaxPermits); !errors.Is(err, ErrInvalid) || s.Available() != 1 {
		t.Errorf("AddPermits past MaxPermits: %v, %d available", err, s.Available())
	}
}

func TestSemaphoreOverRelease(t *testing.T) {
	leakcheck.Check(t)
	s := newSem(t, 2)
	p, _ := s.TryAcquire(1)
	copied := p
	if err := p.Release(); err != nil {
		t.Fatal(err)
	}
	if err := copied.Release(); !errors.Is(err, ErrNotHeld) {
		t.Fatalf("release through a copy: %v, want ErrNotHeld", err)
	}
	if s.Available() != 2 {
		t.Fatalf("Available = %d, want 2: the refused release must add nothing", s.Available())
	}
	var zero Permit
	if err := zero.Release(); err != nil {
		t.Fatalf("zero Permit: %v", err)
	}
}

// semQueue is a semaphore with some of its permits held and requests
// queued behind them, each polled once (Pending) with a wake counter of its
// own.
type semQueue struct {
	*Semaphore
	held Permit
	fs   []*AcquireFuture
	ws   []*wakeCounter
}

func queueBehind(t *testing.T, capacity, held int64, sizes ...int64) *semQueue {
	t.Helper()
	q := &semQueue{Semaphore: newSem(t, capacity)}
	q.held, _ = q.TryAcquire(held)
	for _, n := range sizes {
		f, w := q.Acquire(n), &wakeCounter{}
		mustPending(t, f, w)
		q.fs, q.ws = append(q.fs, f), append(q.ws, w)
	}
	return q
}

// wakes fails t unless request i was woken want[i] times.
func (q *semQueue) wakes(t *testing.T, want ...int64) {
	t.Helper()
	for i, w := range want {
		if got := q.ws[i].Count(); got != w {
			t.Fatalf("request %d woken %d times, want %d", i, got, w)
		}
	}
}

// take polls request i, which must be Ready with its permits.
func (q *semQueue) take(t *testing.T, i int) Permit {
	t.Helper()
	r := mustReady[future.Result[Permit]](t, q.fs[i], q.ws[i])
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	return r.Value
}

// releaseHeld gives back n of the held permits.
func (q *semQueue) releaseHeld(t *testing.T, n int64) {
	t.Helper()
	part := Permit{s: &q.Semaphore.s, n: n}
	q.held.n -= n
	if err := part.Release(); err != nil {
		t.Fatal(err)
	}
}

// TestSemaphoreFIFO: a large request at the head holds up smaller ones
// behind it, even when they would fit, and TryAcquire does not jump the
// queue.
func TestSemaphoreFIFO(t *testing.T) {
	leakcheck.Check(t)
	q := queueBehind(t, 2, 2, 2, 1, 1)
	q.releaseHeld(t, 1)
	q.wakes(t, 0, 0, 0) // one free permit does not fit the head
	if _, err := q.TryAcquire(1); !errors.Is(err, ErrNoPermits) {
		t.Fatalf("TryAcquire with waiters queued: %v, want ErrNoPermits", err)
	}
	q.releaseHeld(t, 1)
	q.wakes(t, 1, 0, 0)
	pa := q.take(t, 0)
	mustPending(t, q.fs[1], q.ws[1])
	pa.Release()
	q.wakes(t, 1, 1, 1)
	pb, pc := q.take(t, 1), q.take(t, 2)
	pb.Release()
	pc.Release()
	checkSettled(t, &q.s, 0)
}

// TestSemaphoreDropHandedOver: a request dropped after permits were handed
// to it, before it took them, passes them to the next waiter.
func TestSemaphoreDropHandedOver(t *testing.T) {
	leakcheck.Check(t)
	q := queueBehind(t, 1, 1, 1, 1)
	q.held.Release()
	q.wakes(t, 1, 0)
	q.fs[0].Drop()
	q.wakes(t, 1, 1) // the permit handed to the dropped request went on
	p := q.take(t, 1)
	p.Release()
	q.fs[0].Drop() // a second Drop, or one after Ready, is harmless
	if q.Available() != 1 {
		t.Fatalf("Available = %d, want 1", q.Available())
	}
	checkSettled(t, &q.s, 0)
}

// TestSemaphoreDropHeadLetsNextIn: dropping the head request, which did not
// fit, lets a smaller one behind it that fits go.
func TestSemaphoreDropHeadLetsNextIn(t *testing.T) {
	leakcheck.Check(t)
	q := queueBehind(t, 2, 1, 2, 1)
	q.fs[0].Drop()
	q.wakes(t, 0, 1)
	p := q.take(t, 1)
	p.Release()
	q.held.Release()
	checkSettled(t, &q.s, 0)
}

func TestSemaphoreClose(t *testing.T) {
	leakcheck.Check(t)
	q := queueBehind(t, 1, 1, 1, 1)
	q.held.Release() // handed to the first request before the close: it keeps it
	q.Close()
	q.Close()
	if !q.IsClosed() {
		t.Fatal("not closed")
	}
	q.wakes(t, 1, 1)
	if r := mustReady[future.Result[Permit]](t, q.fs[1], q.ws[1]); !errors.Is(r.Err, future.ErrClosed) {
		t.Fatalf("waiter after Close: %v, want ErrClosed", r.Err)
	}
	p := q.take(t, 0)
	if _, err := q.TryAcquire(1); !errors.Is(err, future.ErrClosed) {
		t.Fatalf("TryAcquire after Close: %v", err)
	}
	if r := mustReady[future.Result[Permit]](t, q.Acquire(1), q.ws[0]); !errors.Is(r.Err, future.ErrClosed) {
		t.Fatalf("Acquire after Close: %v", r.Err)
	}
	if err := p.Release(); err != nil || q.Available() != 1 {
		t.Fatalf("release after Close: %v, %d available", err, q.Available())
	}
}

func TestSemaphoreAddAndForget(t *testing.T) {
	leakcheck.Check(t)
	var s Semaphore // the zero Semaphore has no permits
	w := &wakeCounter{}
	f := s.Acquire(2)
	mustPending(t, f, w)
	if err := s.AddPermits(1); err != nil || w.Count() != 0 {
		t.Fatalf("AddPermits(1): %v, %d wakes", err, w.Count())
	}
	s.AddPermits(2)
	p := mustReady[future.Result[Permit]](t, f, w).Value
	if s.Available() != 1 {
		t.Fatalf("Available = %d, want 1", s.Available())
	}
	if err := p.Forget(); err != nil {
		t.Fatal(err)
	}
	if s.Available() != 1 || s.s.capacity.Load() != 1 {
		t.Fatalf("after Forget: %d available of %d", s.Available(), s.s.capacity.Load())
	}
	stale := Permit{s: &s.s, n: 1}
	if err := stale.Forget(); !errors.Is(err, ErrNotHeld) || s.s.capacity.Load() != 1 {
		t.Fatalf("Forget of permits not in use: %v, capacity %d", err, s.s.capacity.Load())
	}
}

// TestSemaphoreResetAndWaker: Reset makes a new request, and a re-poll
// with another waker moves the wake to it.
func TestSemaphoreResetAndWaker(t *testing.T) {
	leakcheck.Check(t)
	s := newSem(t, 1)
	f := s.Acquire(1)
	w1, w2 := &wakeCounter{}, &wakeCounter{}
	for range 3 {
		p := mustReady[future.Result[Permit]](t, f, w1).Value
		f.Reset()
		mustPending(t, f, w1)
		mustPending(t, f, w2)
		p.Release()
		if w1.Count() != 0 || w2.Count() != 1 {
			t.Fatalf("wakes old %d new %d, want 0 1", w1.Count(), w2.Count())
		}
		w2.Reset()
	}
	f.Drop() // the permit handed to f in the last round, never taken, goes back
	checkSettled(t, &s.s, 0)
}

// TestSemaphoreStress runs many tasks on the work-stealing Runtime that
// acquire random amounts, hold them across yields, and release them from
// the task or from a goroutine, while chaos drops requests at every await
// point: the permits in use never exceed the capacity, every task finishes,
// and at the end every permit is back.
func TestSemaphoreStress(t *testing.T) {
	leakcheck.Check(t)
	const capacity, tasks, rounds = 5, 64, 40
	s := newSem(t, capacity)
	var inUse atomic.Int64
	var goroutines sync.WaitGroup
	stressRounds(t, tasks, rounds, func(a *future.Awaiter, rng *rand.Rand) {
		n := 1 + rng.Int64N(3)
		r, ok := maybeDropped[future.Result[Permit]](a, rng, s.Acquire(n))
		if !ok {
			return
		}
		p := r.Value
		if r.Err != nil || p.Count() != n {
			t.Errorf("Acquire(%d) = %v, %v", n, p, r.Err)
			return
		}
		if got := inUse.Add(n); got > capacity {
			t.Errorf("%d permits in use, capacity %d", got, capacity)
		}
		yieldN(a, rng.IntN(3))
		inUse.Add(-n)
		if rng.IntN(4) == 0 {
			goroutines.Go(func() {
				if err := p.Release(); err != nil {
					t.Error(err)
				}
			})
		} else if err := p.Release(); err != nil {
			t.Error(err)
		}
	}, func() {
		goroutines.Wait()
		checkSettled(t, &s.s, 0)
	})
}

// TestSemaphoreDropSoleWaiter: when the only waiter leaves, the fast paths
// are open again.
func TestSemaphoreDropSoleWaiter(t *testing.T) {
	leakcheck.Check(t)
	q := queueBehind(t, 1, 1, 1)
	q.fs[0].Drop()
	checkSettled(t, &q.s, 1) // the waiters flag went with the last waiter
	q.held.Release()
	if p, err := q.TryAcquire(1); err != nil {
		t.Fatalf("TryAcquire after the last waiter left: %v", err)
	} else {
		p.Release()
	}
}
