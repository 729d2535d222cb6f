package tasksync

import (
	"errors"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/leakcheck"
)

func TestMutexTryLockAndUnlock(t *testing.T) {
	leakcheck.Check(t)
	var m Mutex
	g, ok := m.TryLock()
	if !ok {
		t.Fatal("TryLock of a zero Mutex failed")
	}
	if _, ok := m.TryLock(); ok {
		t.Fatal("TryLock of a locked Mutex succeeded")
	}
	copied := g
	if err := g.Unlock(); err != nil {
		t.Fatal(err)
	}
	if err := g.Unlock(); err != nil {
		t.Fatalf("second Unlock through the same variable: %v, want nil", err)
	}
	if err := copied.Unlock(); !errors.Is(err, ErrNotHeld) {
		t.Fatalf("Unlock through a copy of an unlocked guard: %v, want ErrNotHeld", err)
	}
	g = mustReady[Guard](t, m.Lock(), &wakeCounter{})
	g.Unlock()
	checkSettled(t, &m.s, 0)
}

// TestMutexFIFO queues 1,000 lock requests behind a held lock and checks
// that each Unlock hands the lock to the next one in the order they
// queued, waking it alone, and that a request dropped after the lock was
// handed to it passes the lock on.
func TestMutexFIFO(t *testing.T) {
	leakcheck.Check(t)
	const waiters = 1000
	var m Mutex
	g, _ := m.TryLock()
	fs := make([]*LockFuture, waiters)
	ws := make([]*wakeCounter, waiters)
	for i := range fs {
		fs[i], ws[i] = m.Lock(), &wakeCounter{}
		mustPending(t, fs[i], ws[i])
	}
	for i := range fs {
		if err := g.Unlock(); err != nil {
			t.Fatal(err)
		}
		if ws[i].Count() != 1 || (i+1 < waiters && ws[i+1].Count() != 0) {
			t.Fatalf("unlock %d woke the wrong waiter", i)
		}
		if i%10 == 3 && i+1 < waiters {
			fs[i].Drop() // handed the lock and dropped: it goes to the next
			if ws[i+1].Count() != 1 {
				t.Fatalf("the lock handed to dropped waiter %d did not go on", i)
			}
			continue
		}
		if i%10 == 4 {
			ws[i].Reset() // it was woken by the drop before it
		}
		g = mustReady[Guard](t, fs[i], ws[i])
	}
	g.Unlock()
	checkSettled(t, &m.s, 0)
}

// TestMutexContendedHandOffs: 1,000 tasks on the work-stealing Runtime
// contend for one Mutex, each holding it across a yield; with FIFO
// hand-off no task waits for more than the 999 others queued before it.
func TestMutexContendedHandOffs(t *testing.T) {
	leakcheck.Check(t)
	const tasks, rounds = 1000, 3
	var m Mutex
	var grants, inside, worst atomic.Int64
	runTasks(t, 2, tasks, func(i int) future.Future[struct{}] {
		return future.Async(func(a *future.Awaiter) struct{} {
			for range rounds {
				f := m.Lock()
				w := &waitCount{f: f, grants: &grants, queued: -1}
				g := future.Await[Guard](a, w)
				seq := grants.Add(1)
				if inside.Add(1) != 1 {
					t.Error("two tasks inside the lock")
				}
				if w.queued >= 0 {
					raise(&worst, seq-1-w.queued)
				}
				yieldN(a, 1)
				inside.Add(-1)
				if err := g.Unlock(); err != nil {
					t.Error(err)
				}
			}
			return struct{}{}
		})
	})
	t.Logf("the longest wait was %d hand-offs (bound: %d)", worst.Load(), tasks-1)
	if worst.Load() > tasks-1 {
		t.Fatalf("a task waited %d hand-offs, more than the %d tasks queued before it", worst.Load(), tasks-1)
	}
	checkSettled(t, &m.s, 0)
}

// waitCount is the lock future of TestMutexContendedHandOffs: it notes the
// grant count when the request first waits. Grants made between the
// queueing and that note are missed, so a measured wait can only come out
// lower than the truth, by the few grants of that window.
type waitCount struct {
	f      *LockFuture
	grants *atomic.Int64
	queued int64 // grant count when first Pending; -1 until then
}

func (w *waitCount) Poll(cx *future.Context) future.Poll[Guard] {
	p := w.f.Poll(cx)
	if p.IsPending() && w.queued == -1 {
		w.queued = w.grants.Load()
	}
	return p
}

func (w *waitCount) Drop() { w.f.Drop() }

func TestRWMutex(t *testing.T) {
	leakcheck.Check(t)
	var rw RWMutex
	r1, ok1 := rw.TryRLock()
	r2, ok2 := rw.TryRLock()
	if !ok1 || !ok2 {
		t.Fatal("two readers could not share the lock")
	}
	if _, ok := rw.TryLock(); ok {
		t.Fatal("a writer got in beside readers")
	}
	ww, wr := &wakeCounter{}, &wakeCounter{}
	wf := rw.Lock()
	mustPending(t, wf, ww)
	rf := rw.RLock()
	mustPending(t, rf, wr) // behind the waiting writer, though readers hold the lock
	if _, ok := rw.TryRLock(); ok {
		t.Fatal("TryRLock overtook a waiting writer")
	}
	r1.Unlock()
	if ww.Count() != 0 {
		t.Fatal("the writer was woken while a reader holds the lock")
	}
	r2.Unlock()
	if ww.Count() != 1 || wr.Count() != 0 {
		t.Fatalf("wakes writer %d reader %d, want 1 0", ww.Count(), wr.Count())
	}
	w := mustReady[Guard](t, wf, ww)
	mustPending(t, rf, wr)
	w.Unlock()
	r := mustReady[Guard](t, rf, wr)

	// A waiting writer that is dropped lets the readers behind it in.
	wf = rw.Lock()
	mustPending(t, wf, ww)
	rf2 := rw.RLock()
	mustPending(t, rf2, wr)
	wr.Reset()
	wf.Drop()
	if wr.Count() != 1 {
		t.Fatal("dropping the waiting writer did not let the reader in")
	}
	r2 = mustReady[Guard](t, rf2, wr)
	r2.Unlock()
	r.Unlock()
	checkSettled(t, &rw.s, 0)
}

// TestLocksStress: tasks on the Runtime take a Mutex and an RWMutex
// (reading or writing) with chaos dropping requests at every await point,
// and check exclusion from inside; all locks are free at the end.
func TestLocksStress(t *testing.T) {
	leakcheck.Check(t)
	const tasks, rounds = 64, 40
	var m Mutex
	var rw RWMutex
	var inMutex, readers, writers atomic.Int64
	// hold takes the lock through chaos and, if it got it, counts itself in
	// held while it holds it across a yield, checking exclusion first.
	hold := func(a *future.Awaiter, rng *rand.Rand, what string, f *LockFuture, held *atomic.Int64, excluded func(inHeld int64) bool) {
		g, ok := maybeDropped[Guard](a, rng, f)
		if !ok {
			return
		}
		if !excluded(held.Add(1)) {
			t.Errorf("%s: exclusion broken", what)
		}
		yieldN(a, rng.IntN(2))
		held.Add(-1)
		g.Unlock()
	}
	stressRounds(t, tasks, rounds, func(a *future.Awaiter, rng *rand.Rand) {
		switch rng.IntN(3) {
		case 0:
			hold(a, rng, "Mutex", m.Lock(), &inMutex, func(n int64) bool { return n == 1 })
		case 1:
			hold(a, rng, "RWMutex reader", rw.RLock(), &readers, func(int64) bool { return writers.Load() == 0 })
		default:
			hold(a, rng, "RWMutex writer", rw.Lock(), &writers, func(n int64) bool { return n == 1 && readers.Load() == 0 })
		}
	}, func() {
		checkSettled(t, &m.s, 0)
		checkSettled(t, &rw.s, 0)
	})
}
