package tasksync

import (
	"errors"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/leakcheck"
)

func newBarrier(t *testing.T, n int) *Barrier {
	t.Helper()
	b, err := NewBarrier(n)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// gen returns the generations b completed.
func (b *Barrier) gen() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.generation
}

func TestBarrier(t *testing.T) {
	leakcheck.Check(t)
	if _, err := NewBarrier(0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("NewBarrier(0): %v", err)
	}
	b := newBarrier(t, 3)
	fs := []*BarrierWaitFuture{b.Wait(), b.Wait(), b.Wait()}
	ws := []*wakeCounter{{}, {}, {}}
	for round := range 3 {
		mustPending(t, fs[0], ws[0])
		mustPending(t, fs[1], ws[1])
		if !mustReady[bool](t, fs[2], ws[2]) {
			t.Fatal("the last arrival is not the leader")
		}
		for i := range 2 {
			if ws[i].Count() != int64(round+1) || mustReady[bool](t, fs[i], ws[i]) {
				t.Fatalf("round %d: waiter %d woken %d times, or a second leader", round, i, ws[i].Count())
			}
		}
		for _, f := range fs {
			f.Reset()
		}
	}
	if b.gen() != 3 {
		t.Fatalf("%d generations, want 3", b.gen())
	}
}

// TestBarrierDropWithdraws: a dropped wait does not count towards the
// generation.
func TestBarrierDropWithdraws(t *testing.T) {
	leakcheck.Check(t)
	b := newBarrier(t, 2)
	a := b.Wait()
	mustPending(t, a, &wakeCounter{})
	a.Drop()
	w := &wakeCounter{}
	second := b.Wait()
	mustPending(t, second, w) // the dropped arrival is not counted
	if !mustReady[bool](t, b.Wait(), &wakeCounter{}) {
		t.Fatal("not the leader")
	}
	if w.Count() != 1 || mustReady[bool](t, second, w) {
		t.Fatal("the waiter was not released as a follower")
	}
}

// TestBarrierStress: tasks on the Runtime meet at a barrier round after
// round while chaos drops their waits at every await point (a task whose
// wait was dropped waits again); no task passes a round before all have
// arrived at it, and each generation has one leader.
func TestBarrierStress(t *testing.T) {
	leakcheck.Check(t)
	const parties, rounds = 16, 30
	base := seed(t)
	for _, workers := range []int{2, 4} {
		b := newBarrier(t, parties)
		var arrived [rounds]atomic.Int64
		var leaders atomic.Int64
		runTasks(t, workers, parties, func(i int) future.Future[struct{}] {
			return future.Async(func(a *future.Awaiter) struct{} {
				rng := rand.New(rand.NewPCG(base, uint64(i)))
				for r := range rounds {
					arrived[r].Add(1)
					for {
						leader, ok := maybeDropped[bool](a, rng, b.Wait())
						if ok {
							if leader {
								leaders.Add(1)
							}
							break
						}
						// Dropped after the generation completed: the
						// round was passed all the same.
						if b.gen() > uint64(r) {
							break
						}
					}
					if n := arrived[r].Load(); n != parties {
						t.Errorf("round %d passed with %d of %d arrived", r, n, parties)
					}
				}
				return struct{}{}
			})
		})
		// The leader is Ready in the poll that arrives, so chaos, which
		// drops only between polls, never drops one.
		if b.gen() != rounds || leaders.Load() != rounds {
			t.Fatalf("%d workers: %d generations and %d leaders, want %d of each", workers, b.gen(), leaders.Load(), rounds)
		}
	}
}
