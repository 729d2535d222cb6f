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
	if !m.s.settled(0) {
		t.Fatal("not settled")
	}
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
		if ws[i].count() != 1 || (i+1 < waiters && ws[i+1].count() != 0) {
			t.Fatalf("unlock %d woke the wrong waiter", i)
		}
		if i%10 == 3 && i+1 < waiters {
			fs[i].Drop() // handed the lock and dropped: it goes to the next
			if ws[i+1].count() != 1 {
				t.Fatalf("the lock handed to dropped waiter %d did not go on", i)
			}
			continue
		}
		if i%10 == 4 {
			ws[i].n.Store(0) // it was woken by the drop before it
		}
		g = mustReady[Guard](t, fs[i], ws[i])
	}
	g.Unlock()
	if !m.s.settled(0) {
		t.Fatal("not settled")
	}
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
	if !m.s.settled(0) {
		t.Fatal("not settled")
	}
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
	if ww.count() != 0 {
		t.Fatal("the writer was woken while a reader holds the lock")
	}
	r2.Unlock()
	if ww.count() != 1 || wr.count() != 0 {
		t.Fatalf("wakes writer %d reader %d, want 1 0", ww.count(), wr.count())
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
	wr.n.Store(0)
	wf.Drop()
	if wr.count() != 1 {
		t.Fatal("dropping the waiting writer did not let the reader in")
	}
	r2 = mustReady[Guard](t, rf2, wr)
	r2.Unlock()
	r.Unlock()
	if !rw.s.settled(0) {
		t.Fatal("not settled")
	}
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
	base := seed(t)
	for _, workers := range []int{2, 4} {
		runTasks(t, workers, tasks, func(i int) future.Future[struct{}] {
			return future.Async(func(a *future.Awaiter) struct{} {
				rng := rand.New(rand.NewPCG(base, uint64(i)))
				for range rounds {
					switch rng.IntN(3) {
					case 0:
						g, ok := maybeDropped[Guard](a, rng, m.Lock())
						if !ok {
							continue
						}
						if inMutex.Add(1) != 1 {
							t.Error("two holders of the Mutex")
						}
						yieldN(a, rng.IntN(2))
						inMutex.Add(-1)
						g.Unlock()
					case 1:
						g, ok := maybeDropped[Guard](a, rng, rw.RLock())
						if !ok {
							continue
						}
						readers.Add(1)
						if writers.Load() != 0 {
							t.Error("a reader beside a writer")
						}
						yieldN(a, rng.IntN(2))
						readers.Add(-1)
						g.Unlock()
					default:
						g, ok := maybeDropped[Guard](a, rng, rw.Lock())
						if !ok {
							continue
						}
						if writers.Add(1) != 1 || readers.Load() != 0 {
							t.Error("a writer beside another holder")
						}
						yieldN(a, rng.IntN(2))
						writers.Add(-1)
						g.Unlock()
					}
				}
				return struct{}{}
			})
		})
		if !m.s.settled(0) || !rw.s.settled(0) {
			t.Fatalf("%d workers: a lock is not free at the end", workers)
		}
	}
}
