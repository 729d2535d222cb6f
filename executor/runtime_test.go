package executor

import (
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/leakcheck"
)

// forEachRuntime runs fn on a fresh Runtime of the given size on every test
// driver.
func forEachRuntime(t *testing.T, workers int, fn func(t *testing.T, rt *Runtime)) {
	t.Helper()
	forEachDriver(t, func(t *testing.T, d string) {
		rt, err := NewRuntime(WithDriver(d), WithWorkers(workers))
		if err != nil {
			t.Fatalf("NewRuntime: %v", err)
		}
		t.Cleanup(func() {
			if err := rt.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		if rt.Workers() != workers || rt.DriverName() != d {
			t.Fatalf("Workers %d on %q, want %d on %q", rt.Workers(), rt.DriverName(), workers, d)
		}
		fn(t, rt)
	})
}

func TestRuntimeStealsFromABusyWorker(t *testing.T) {
	leakcheck.Check(t)
	forEachRuntime(t, 2, func(t *testing.T, rt *Runtime) {
		const n = 10_000
		// The spawner's worker keeps polling the spawner, without
		// yielding, until a steal happened (or a generous bound passed):
		// its ring, which holds at least half of a full ring after each
		// overflow, is then reachable only by stealing, whatever the
		// timing of the other worker's wake-up and of the injection queue.
		stolen := func() bool {
			for _, w := range rt.workers {
				if w.stats.stolen.Load() > 0 {
					return true
				}
			}
			return false
		}
		spawned := false
		join := &spawnJoinAll{n: n, mk: func(int) future.Future[int] { return future.Resolved(1) }}
		spawner := fnFuture[int](func(cx *future.Context) future.Poll[int] {
			if !spawned {
				spawned = true
				join.Poll(cx) // spawns all n; their joins are polled below
				for deadline := time.Now().Add(10 * time.Second); !stolen() && time.Now().Before(deadline); {
					runtime.Gosched()
				}
			}
			return join.Poll(cx)
		})
		r := await(t, rt, spawn[int](t, rt, spawner))
		if r.Err != nil || r.Value != n {
			t.Fatalf("join = %+v, want %d", r, n)
		}
		st := rt.Stats()
		if st.TasksStolen == 0 {
			t.Fatalf("no task was stolen while one worker spawned %d: %+v", n, st)
		}
		var polls, stolenN uint64
		for _, w := range st.Workers {
			polls += w.Polls
			stolenN += w.Stolen
		}
		if len(st.Workers) != 2 || polls != st.TasksPolled || stolenN != st.TasksStolen || st.TasksPolled < n+1 {
			t.Fatalf("per-worker counters do not add up: %+v", st)
		}
	})
}

func TestRuntimeKeepsWorkerSpawnsAndWakesLocal(t *testing.T) {
	leakcheck.Check(t)
	forEachRuntime(t, 2, func(t *testing.T, rt *Runtime) {
		const pairs, rounds = 40, 20
		before := rt.Stats()
		// One task (spawned from outside: the one injection) spawns pairs
		// of tasks that wake each other through channels: every spawn and
		// wake after the first happens inside a worker, and 80 tasks never
		// fill a 256-slot ring.
		var hs []*JoinHandle[int]
		outer := fnFuture[int](func(cx *future.Context) future.Poll[int] {
			if hs == nil {
				sp, err := SpawnerOf(cx)
				if err != nil {
					return future.Ready(-1)
				}
				for range pairs {
					c1, _ := future.NewChannel[int](1)
					c2, _ := future.NewChannel[int](1)
					for _, p := range []*pinger{{out: c2, in: c1, n: rounds}, {out: c1, in: c2, n: rounds, first: true}} {
						h, err := Spawn[int](sp, p)
						if err != nil {
							return future.Ready(-1)
						}
						hs = append(hs, h)
					}
				}
			}
			for len(hs) > 0 {
				if hs[0].Poll(cx).IsPending() {
					return future.Pending[int]()
				}
				hs = hs[1:]
			}
			return future.Ready(2 * pairs)
		})
		if r := await(t, rt, spawn(t, rt, outer)); r.Value != 2*pairs {
			t.Fatalf("join = %+v", r)
		}
		st := rt.Stats()
		if got := st.TasksInjected - before.TasksInjected; got != 1 {
			t.Fatalf("%d injection-queue pushes, want 1 (the spawn from outside): %+v", got, st)
		}
		if st.LIFOHits == before.LIFOHits {
			t.Fatalf("no task ran from a LIFO slot: %+v", st)
		}
	})
}

func TestRuntimeOneWakeUnparksAtMostOneWorker(t *testing.T) {
	leakcheck.Check(t)
	forEachRuntime(t, 4, func(t *testing.T, rt *Runtime) {
		for range 5 {
			g := newGate()
			h := spawn[struct{}](t, rt, g)
			<-g.polled
			time.Sleep(20 * time.Millisecond) // every worker goes to sleep
			before := rt.Stats()
			g.Open()
			if r := await(t, rt, h); r.Err != nil {
				t.Fatal(r.Err)
			}
			st := rt.Stats()
			if n := st.Unparks - before.Unparks; n > 1 {
				t.Fatalf("one wake unparked %d workers: %+v", n, st)
			}
			if st.TasksPolled == before.TasksPolled {
				t.Fatalf("the woken task was not polled: %+v", st)
			}
		}
		if st := rt.Stats(); st.Parks == 0 || st.DriverWaits == 0 {
			t.Fatalf("idle workers neither parked nor waited in the driver: %+v", st)
		}
	})
}

// spinner is an always-ready task: it wakes itself at every poll until
// stop, counting its polls in spins and calling mark each time.
type spinner struct {
	spins *atomic.Int64
	stop  *atomic.Bool
	mark  func()
}

func (s *spinner) Poll(cx *future.Context) future.Poll[int] {
	s.spins.Add(1)
	s.mark()
	if s.stop.Load() {
		return future.Ready(0)
	}
	cx.Waker().Wake()
	return future.Pending[int]()
}

// budgetGap runs always-ready spinner tasks beside a task that awaits wait,
// and returns how many spinner polls happened between the moment due()
// first held (seen by a spinner) and the wait's completion. On a Local the
// BlockOn future spins too (waking itself), on one worker. It fails the test
// if the wait is starved outright.
func budgetGap(t *testing.T, ex Executor, spinners int, wait future.Future[int], due func() bool) int64 {
	t.Helper()
	var spins, markAt, wokeAt atomic.Int64
	var stop, armed atomic.Bool
	markAt.Store(-1)
	mark := func() {
		// armed: the waiting task was polled once (and so waits).
		if markAt.Load() < 0 && armed.Load() && due() {
			markAt.CompareAndSwap(-1, spins.Load())
		}
	}
	hs := make([]*JoinHandle[int], spinners)
	for i := range hs {
		hs[i] = spawn[int](t, ex, &spinner{&spins, &stop, mark})
	}
	waiter := spawn(t, ex, fnFuture[int](func(cx *future.Context) future.Poll[int] {
		defer armed.Store(true)
		if wait.Poll(cx).IsPending() {
			return future.Pending[int]()
		}
		wokeAt.Store(spins.Load())
		return future.Ready(0)
	}))
	_, local := ex.(*Local)
	const starved = 20_000_000
	mainFut := fnFuture[error](func(cx *future.Context) future.Poll[error] {
		if local {
			spins.Add(1)
			mark()
		}
		if waiter.IsFinished() {
			return future.Ready[error](nil)
		}
		if spins.Load() > starved {
			return future.Ready(errors.New("the waiting task was starved"))
		}
		if local {
			cx.Waker().Wake()
		} else if r, ok := waiter.Poll(cx).Value(); ok {
			return future.Ready(r.Err)
		}
		return future.Pending[error]()
	})
	err, berr := BlockOn[error](ex, mainFut)
	stop.Store(true)
	for _, h := range hs {
		await(t, ex, h)
	}
	if berr != nil || err != nil {
		t.Fatalf("BlockOn: %v %v", berr, err)
	}
	if markAt.Load() < 0 {
		return 0 // it woke before a spinner saw it due
	}
	return wokeAt.Load() - markAt.Load()
}

// budgetBound is the most polls an always-ready load may run between an
// event and the poll of the task it wakes on one worker: the budget of
// ioInterval polls until the executor looks at I/O and timers, then the
// spinners (and a spinning BlockOn future) queued ahead of the woken task.
func budgetBound(spinners int) int64 { return int64(ioInterval + 2*(spinners+1)) }

// budgetExecutors are the one-goroutine executors on which the budget is
// exact: Local (with a spinning BlockOn future) and a one-worker Runtime.
func budgetExecutors(t *testing.T, fn func(t *testing.T, ex Executor)) {
	forEachDriver(t, func(t *testing.T, d string) {
		for _, open := range []func() (Executor, error){
			func() (Executor, error) { return NewLocal(WithDriver(d)) },
			func() (Executor, error) { return NewRuntime(WithDriver(d), WithWorkers(1)) },
		} {
			ex, err := open()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := ex.Close(); err != nil {
					t.Error(err)
				}
			})
			fn(t, ex)
		}
	})
}

func TestBudgetLetsTimersThrough(t *testing.T) {
	leakcheck.Check(t)
	const spinners = 4
	budgetExecutors(t, func(t *testing.T, ex Executor) {
		// No spinner task: on Local only the BlockOn future spins.
		for _, n := range []int{0, spinners} {
			s := Sleep(3 * time.Millisecond)
			due := int64(ceilTick(s.deadline)) * tickNanos
			sleep := fnFuture[int](func(cx *future.Context) future.Poll[int] {
				if s.Poll(cx).IsPending() {
					return future.Pending[int]()
				}
				return future.Ready(0)
			})
			if gap := budgetGap(t, ex, n, sleep, func() bool { return nowNanos() >= due }); gap > budgetBound(n) {
				t.Fatalf("%T: a due timer waited %d polls of always-ready work, budget %d", ex, gap, budgetBound(n))
			}
		}
	})
	// With several workers the bound is per worker, and workers run in
	// parallel; the timer must still get through.
	forEachExecutor(t, func(t *testing.T, ex Executor) {
		s := Sleep(3 * time.Millisecond)
		sleep := fnFuture[int](func(cx *future.Context) future.Poll[int] {
			if s.Poll(cx).IsPending() {
				return future.Pending[int]()
			}
			return future.Ready(0)
		})
		budgetGap(t, ex, spinners, sleep, func() bool { return false })
	})
}
