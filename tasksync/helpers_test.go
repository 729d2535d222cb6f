package tasksync

import (
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/libasync/libasync/executor"
	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/testkit"
)

// wakeCounter is a Wakeable that counts its wakes.
type wakeCounter = testkit.WakeCounter

// pollWith polls f once with a Context whose waker is w.
func pollWith[T any](f future.Future[T], w *wakeCounter) future.Poll[T] {
	return f.Poll(future.NewContext(future.WakerFor(w), nil))
}

// mustReady polls f with w and fails the test unless it is Ready.
func mustReady[T any](t *testing.T, f future.Future[T], w *wakeCounter) T {
	t.Helper()
	v, ok := pollWith(f, w).Value()
	if !ok {
		t.Fatal("Pending, want Ready")
	}
	return v
}

// mustPending polls f with w and fails the test unless it is Pending.
func mustPending[T any](t *testing.T, f future.Future[T], w *wakeCounter) {
	t.Helper()
	if pollWith(f, w).IsReady() {
		t.Fatal("Ready, want Pending")
	}
}

// checkSettled fails t unless s has nobody waiting, with its flag agreeing,
// and inUse permits in use.
func checkSettled(t *testing.T, s *sem, inUse int64) {
	t.Helper()
	s.mu.Lock()
	st := s.state.Load()
	empty := s.waiters.Front() == nil
	s.mu.Unlock()
	if !empty || st&stWaiters != 0 || used(st) != inUse {
		t.Fatalf("not settled: waiters %v, flag %v, %d in use, want none and %d", !empty, st&stWaiters != 0, used(st), inUse)
	}
}

// runTasks spawns n tasks made by mk on a fresh Runtime with the given
// number of workers, joins them all, and closes the Runtime. A task's
// failure is reported by the task through t.
func runTasks(t *testing.T, workers, n int, mk func(i int) future.Future[struct{}]) {
	t.Helper()
	rt, err := executor.NewRuntime(executor.WithWorkers(workers))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := rt.Close(); err != nil {
			t.Error(err)
		}
	}()
	hs := make([]*executor.JoinHandle[struct{}], n)
	for i := range hs {
		if hs[i], err = executor.Spawn(rt, mk(i)); err != nil {
			t.Fatal(err)
		}
	}
	for i, h := range hs {
		r, err := executor.BlockOn[future.Result[struct{}]](rt, h)
		if err == nil {
			err = r.Err
		}
		if err != nil {
			t.Fatalf("task %d: %v", i, err)
		}
	}
}

// stressRounds runs tasks on the Runtime, with 2 and then with 4 workers;
// each task calls round rounds times, with a rand of its own seeded from the
// test's seed, and settled runs after each of the two runs.
func stressRounds(t *testing.T, tasks, rounds int, round func(a *future.Awaiter, rng *rand.Rand), settled func()) {
	t.Helper()
	base := seed(t)
	for _, workers := range []int{2, 4} {
		runTasks(t, workers, tasks, func(i int) future.Future[struct{}] {
			return future.Async(func(a *future.Awaiter) struct{} {
				rng := rand.New(rand.NewPCG(base, uint64(i)))
				for range rounds {
					round(a, rng)
				}
				return struct{}{}
			})
		})
		settled()
	}
}

// seed returns the seed of a randomised test's choices: TASKSYNC_SEED if
// set, else a random one. It is logged, so that a failing run's choices can
// be made again; the interleaving of the Runtime's workers cannot.
func seed(t *testing.T) uint64 {
	s := rand.Uint64()
	if env := os.Getenv("TASKSYNC_SEED"); env != "" {
		var err error
		if s, err = strconv.ParseUint(env, 10, 64); err != nil {
			t.Fatalf("TASKSYNC_SEED: %v", err)
		}
	}
	t.Logf("seed %d", s)
	return s
}

// chaos wraps a waiting future so that a randomised test reaches every
// await point: on each poll after the first it may drop the inner future
// instead of polling it (then it is Ready with dropped set), and after a
// Pending poll it may wake its own task at once, so that it is also polled,
// and maybe dropped, while the inner future still waits rather than only
// after the inner future's wake.
type chaos[T any] struct {
	inner   future.Future[T]
	rng     *rand.Rand
	polled  bool
	dropped bool
}

// chaosOutcome is what a chaos future ends with: the inner value, or a
// drop.
type chaosOutcome[T any] struct {
	value   T
	dropped bool
}

func (c *chaos[T]) Poll(cx *future.Context) future.Poll[chaosOutcome[T]] {
	if c.polled && c.rng.IntN(4) == 0 {
		future.Drop(c.inner)
		return future.Ready(chaosOutcome[T]{dropped: true})
	}
	c.polled = true
	if v, ok := c.inner.Poll(cx).Value(); ok {
		return future.Ready(chaosOutcome[T]{value: v})
	}
	if c.rng.IntN(2) == 0 {
		cx.Waker().Wake()
	}
	return future.Pending[chaosOutcome[T]]()
}

// Drop passes the drop on, for a task dropped at shutdown.
func (c *chaos[T]) Drop() { future.Drop(c.inner) }

// maybeDropped awaits f through a chaos wrapper in an Async body and
// reports f's value, or false when chaos dropped it.
func maybeDropped[T any](a *future.Awaiter, rng *rand.Rand, f future.Future[T]) (T, bool) {
	o := future.Await[chaosOutcome[T]](a, &chaos[T]{inner: f, rng: rng})
	return o.value, !o.dropped
}

// yieldN yields the task n times.
func yieldN(a *future.Awaiter, n int) {
	for range n {
		future.Await[struct{}](a, executor.YieldNow())
	}
}

// raise sets a to v if v is larger.
func raise(a *atomic.Int64, v int64) {
	for old := a.Load(); old < v && !a.CompareAndSwap(old, v); old = a.Load() {
	}
}

// feeder sends the values 1..n from a goroutine once every receiving task
// has called started.Done, so that the sends meet running receivers, and
// closes the channel after the last. Paced, it waits after each value until
// a receiver took it, so that receivers wait often instead of finding
// values already there.
type feeder struct {
	started, done sync.WaitGroup
	progress      atomic.Int64 // the highest value a receiver took
}

func startFeeder(receivers, n int, paced bool, send func(v int), close func()) *feeder {
	f := &feeder{}
	f.started.Add(receivers)
	f.done.Go(func() {
		defer close()
		f.started.Wait()
		for v := 1; v <= n; v++ {
			send(v)
			for paced && f.progress.Load() < int64(v) {
				runtime.Gosched()
			}
		}
	})
	return f
}

// took records that a receiver took value v.
func (f *feeder) took(v int) { raise(&f.progress, int64(v)) }
