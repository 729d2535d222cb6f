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
	if s.Available() != 3 || !s.s.settled(0) {
		t.Fatalf("Available = %d after release, want 3", s.Available())
	}
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

// TestSemaphoreFIFO: a large request at the head holds up smaller ones
// behind it, even when they would fit, and TryAcquire does not jump the
// queue.
func TestSemaphoreFIFO(t *testing.T) {
	leakcheck.Check(t)
	s := newSem(t, 2)
	held, _ := s.TryAcquire(2)
	wa, wb, wc := &wakeCounter{}, &wakeCounter{}, &wakeCounter{}
	a, b, c := s.Acquire(2), s.Acquire(1), s.Acquire(1)
	mustPending(t, a, wa)
	mustPending(t, b, wb)
	mustPending(t, c, wc)

	one := held
	one.n = 1
	if err := one.Release(); err != nil {
		t.Fatal(err)
	}
	if wa.count()+wb.count()+wc.count() != 0 {
		t.Fatal("a release that does not fit the head woke someone")
	}
	if _, err := s.TryAcquire(1); !errors.Is(err, ErrNoPermits) {
		t.Fatalf("TryAcquire with waiters queued: %v, want ErrNoPermits", err)
	}
	rest := Permit{s: &s.s, n: 1}
	if err := rest.Release(); err != nil {
		t.Fatal(err)
	}
	if wa.count() != 1 || wb.count()+wc.count() != 0 {
		t.Fatalf("wakes %d %d %d, want the head alone", wa.count(), wb.count(), wc.count())
	}
	pa := mustReady[future.Result[Permit]](t, a, wa).Value
	mustPending(t, b, wb)
	if err := pa.Release(); err != nil {
		t.Fatal(err)
	}
	if wb.count() != 1 || wc.count() != 1 {
		t.Fatalf("after releasing 2: wakes b %d c %d, want 1 1", wb.count(), wc.count())
	}
	pb := mustReady[future.Result[Permit]](t, b, wb).Value
	pc := mustReady[future.Result[Permit]](t, c, wc).Value
	pb.Release()
	pc.Release()
	if !s.s.settled(0) {
		t.Fatal("not settled at the end")
	}
}

// TestSemaphoreDropHandedOver: a request dropped after permits were handed
// to it, before it took them, passes them to the next waiter.
func TestSemaphoreDropHandedOver(t *testing.T) {
	leakcheck.Check(t)
	s := newSem(t, 1)
	held, _ := s.TryAcquire(1)
	wa, wb := &wakeCounter{}, &wakeCounter{}
	a, b := s.Acquire(1), s.Acquire(1)
	mustPending(t, a, wa)
	mustPending(t, b, wb)
	held.Release()
	if wa.count() != 1 || wb.count() != 0 {
		t.Fatalf("wakes %d %d, want 1 0", wa.count(), wb.count())
	}
	a.Drop()
	if wb.count() != 1 {
		t.Fatal("the permit handed to the dropped request did not go on")
	}
	p := mustReady[future.Result[Permit]](t, b, wb).Value
	p.Release()
	a.Drop() // a second Drop, or one after Ready, is harmless
	if s.Available() != 1 || !s.s.settled(0) {
		t.Fatalf("Available = %d, want 1", s.Available())
	}
}

// TestSemaphoreDropHeadLetsNextIn: dropping the head request, which did not
// fit, lets a smaller one behind it that fits go.
func TestSemaphoreDropHeadLetsNextIn(t *testing.T) {
	leakcheck.Check(t)
	s := newSem(t, 2)
	held, _ := s.TryAcquire(1)
	wa, wb := &wakeCounter{}, &wakeCounter{}
	a, b := s.Acquire(2), s.Acquire(1)
	mustPending(t, a, wa)
	mustPending(t, b, wb)
	a.Drop()
	if wb.count() != 1 {
		t.Fatal("dropping the head did not let the next request in")
	}
	p := mustReady[future.Result[Permit]](t, b, wb).Value
	p.Release()
	held.Release()
	if !s.s.settled(0) {
		t.Fatal("not settled")
	}
}

func TestSemaphoreClose(t *testing.T) {
	leakcheck.Check(t)
	s := newSem(t, 1)
	held, _ := s.TryAcquire(1)
	wa, wb := &wakeCounter{}, &wakeCounter{}
	a, b := s.Acquire(1), s.Acquire(1)
	mustPending(t, a, wa)
	mustPending(t, b, wb)
	held.Release() // handed to a before the close: a keeps it
	s.Close()
	s.Close()
	if !s.IsClosed() || wb.count() != 1 {
		t.Fatalf("closed %v, b woken %d times", s.IsClosed(), wb.count())
	}
	if r := mustReady[future.Result[Permit]](t, b, wb); !errors.Is(r.Err, future.ErrClosed) {
		t.Fatalf("waiter after Close: %v, want ErrClosed", r.Err)
	}
	r := mustReady[future.Result[Permit]](t, a, wa)
	if r.Err != nil {
		t.Fatalf("the permit handed over before Close: %v", r.Err)
	}
	if _, err := s.TryAcquire(1); !errors.Is(err, future.ErrClosed) {
		t.Fatalf("TryAcquire after Close: %v", err)
	}
	if r := mustReady[future.Result[Permit]](t, s.Acquire(1), wa); !errors.Is(r.Err, future.ErrClosed) {
		t.Fatalf("Acquire after Close: %v", r.Err)
	}
	if err := r.Value.Release(); err != nil || s.Available() != 1 {
		t.Fatalf("release after Close: %v, %d available", err, s.Available())
	}
}

func TestSemaphoreAddAndForget(t *testing.T) {
	leakcheck.Check(t)
	var s Semaphore // the zero Semaphore has no permits
	w := &wakeCounter{}
	f := s.Acquire(2)
	mustPending(t, f, w)
	if err := s.AddPermits(1); err != nil || w.count() != 0 {
		t.Fatalf("AddPermits(1): %v, %d wakes", err, w.count())
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
		if w1.count() != 0 || w2.count() != 1 {
			t.Fatalf("wakes old %d new %d, want 0 1", w1.count(), w2.count())
		}
		w2.n.Store(0)
	}
	f.Drop() // the permit handed to f in the last round, never taken, goes back
	if !s.s.settled(0) {
		t.Fatal("a dropped request kept the permit handed to it")
	}
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
	base := seed(t)
	for _, workers := range []int{2, 4} {
		runTasks(t, workers, tasks, func(i int) future.Future[struct{}] {
			return future.Async(func(a *future.Awaiter) struct{} {
				rng := rand.New(rand.NewPCG(base, uint64(i)))
				for range rounds {
					n := 1 + rng.Int64N(3)
					r, ok := maybeDropped[future.Result[Permit]](a, rng, s.Acquire(n))
					if !ok {
						continue
					}
					p := r.Value
					if r.Err != nil || p.Count() != n {
						t.Errorf("Acquire(%d) = %v, %v", n, p, r.Err)
						return struct{}{}
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
				}
				return struct{}{}
			})
		})
		goroutines.Wait()
		if !s.s.settled(0) || s.Available() != capacity {
			t.Fatalf("%d workers: %d of %d permits back at the end", workers, s.Available(), capacity)
		}
	}
}

// TestSemaphoreDropSoleWaiter: when the only waiter leaves, the fast paths
// are open again.
func TestSemaphoreDropSoleWaiter(t *testing.T) {
	leakcheck.Check(t)
	s := newSem(t, 1)
	held, _ := s.TryAcquire(1)
	f := s.Acquire(1)
	mustPending(t, f, &wakeCounter{})
	f.Drop()
	if !s.s.settled(1) {
		t.Fatal("the waiters flag outlived the last waiter")
	}
	held.Release()
	if p, err := s.TryAcquire(1); err != nil {
		t.Fatalf("TryAcquire after the last waiter left: %v", err)
	} else {
		p.Release()
	}
}
