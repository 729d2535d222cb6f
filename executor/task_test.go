package executor

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/leakcheck"
)

func TestSpawnAndJoin(t *testing.T) {
	leakcheck.Check(t)
	forEachExecutor(t, func(t *testing.T, ex Executor) {
		h := spawn(t, ex, ready(42))
		if r := await(t, ex, h); r.Err != nil || r.Value != 42 {
			t.Fatalf("join = %+v, want 42", r)
		}
		if !h.IsFinished() {
			t.Fatalf("IsFinished = false after join")
		}
		st := ex.Stats()
		if st.TasksSpawned != 1 || st.TasksCompleted != 1 || st.TasksPolled != 1 {
			t.Fatalf("stats = %+v, want 1 spawned, polled, completed", st)
		}
	})
}

func TestSpawnFromTask(t *testing.T) {
	leakcheck.Check(t)
	forEachExecutor(t, func(t *testing.T, ex Executor) {
		var inner *JoinHandle[int]
		outer := fnFuture[int](func(cx *future.Context) future.Poll[int] {
			if inner == nil {
				s, err := SpawnerOf(cx)
				if err != nil {
					t.Errorf("SpawnerOf: %v", err)
					return future.Ready(-1)
				}
				if inner, err = Spawn(s, ready(7)); err != nil {
					t.Errorf("Spawn: %v", err)
					return future.Ready(-1)
				}
			}
			r, ok := inner.Poll(cx).Value()
			if !ok {
				return future.Pending[int]()
			}
			return future.Ready(r.Value * 6)
		})
		if r := await(t, ex, spawn(t, ex, outer)); r.Value != 42 {
			t.Fatalf("join = %+v, want 42", r)
		}
	})
	if _, err := SpawnerOf(future.NewContext(future.NoopWaker(), nil)); !errors.Is(err, future.ErrNoRuntime) {
		t.Fatalf("SpawnerOf without executor: %v, want ErrNoRuntime", err)
	}
}

func TestWakeDuringPollRequeuesOnce(t *testing.T) {
	leakcheck.Check(t)
	forEachExecutor(t, func(t *testing.T, ex Executor) {
		var polls atomic.Int32
		f := fnFuture[int](func(cx *future.Context) future.Poll[int] {
			if polls.Add(1) == 1 {
				for range 5 {
					cx.Waker().Wake()
				}
				return future.Pending[int]()
			}
			return future.Ready(1)
		})
		await(t, ex, spawn(t, ex, f))
		if n := polls.Load(); n != 2 {
			t.Fatalf("polls = %d, want 2 (five wakes during a poll make one more poll)", n)
		}
	})
}

func TestWakeFromManyGoroutines(t *testing.T) {
	leakcheck.Check(t)
	forEachExecutor(t, func(t *testing.T, ex Executor) {
		const wakers, wakesEach = 8, 2000
		var (
			polls, inPoll atomic.Int32
			mu            sync.Mutex
			waker         future.Waker
			done          atomic.Bool
			started       = make(chan struct{})
			once          sync.Once
		)
		f := fnFuture[int32](func(cx *future.Context) future.Poll[int32] {
			if inPoll.Add(1) != 1 {
				t.Errorf("task polled concurrently with itself")
			}
			defer inPoll.Add(-1)
			polls.Add(1)
			mu.Lock()
			waker = cx.Waker()
			mu.Unlock()
			finished := done.Load() // read before started can let done be set
			once.Do(func() { close(started) })
			if finished {
				return future.Ready(polls.Load())
			}
			return future.Pending[int32]()
		})
		h := spawn(t, ex, f)
		var wg sync.WaitGroup
		go func() {
			<-started
			for range wakers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range wakesEach {
						mu.Lock()
						w := waker
						mu.Unlock()
						w.Wake()
					}
				}()
			}
			wg.Wait()
			done.Store(true)
			mu.Lock()
			w := waker
			mu.Unlock()
			w.Wake()
		}()
		r := await(t, ex, h)
		wg.Wait()
		if r.Err != nil || r.Value < 2 || r.Value > wakers*wakesEach+2 {
			t.Fatalf("join = %+v: polls out of range [2, %d]", r, wakers*wakesEach+2)
		}
	})
}

func TestWakeAfterCompletionIsNoop(t *testing.T) {
	leakcheck.Check(t)
	forEachExecutor(t, func(t *testing.T, ex Executor) {
		var polls atomic.Int32
		var kept future.Waker
		h := spawn(t, ex, fnFuture[int](func(cx *future.Context) future.Poll[int] {
			polls.Add(1)
			kept = cx.Waker()
			return future.Ready(1)
		}))
		await(t, ex, h)
		before := ex.Stats().TasksPolled
		for range 100 {
			kept.Wake()
		}
		settle(t, ex)
		if polls.Load() != 1 || ex.Stats().TasksPolled != before {
			t.Fatalf("a completed task was polled again: polls %d, stats %d -> %d", polls.Load(), before, ex.Stats().TasksPolled)
		}
	})
}

func TestAbortWhileQueued(t *testing.T) {
	leakcheck.Check(t)
	forEachExecutor(t, func(t *testing.T, ex Executor) {
		if _, ok := ex.(*Local); !ok {
			t.Skip("only a Local runs nothing until asked")
		}
		f := &forever{}
		h := spawn(t, ex, f)
		h.Abort()
		if r := await(t, ex, h); !errors.Is(r.Err, future.ErrAborted) {
			t.Fatalf("join = %+v, want ErrAborted", r)
		}
		if f.polls.Load() != 0 || f.drops.Load() != 1 {
			t.Fatalf("polls %d drops %d, want 0 and 1", f.polls.Load(), f.drops.Load())
		}
	})
}

func TestAbortWhilePending(t *testing.T) {
	leakcheck.Check(t)
	forEachExecutor(t, func(t *testing.T, ex Executor) {
		f := &forever{}
		h := spawn(t, ex, f)
		for f.polls.Load() == 0 {
			settle(t, ex)
		}
		h.Abort()
		h.Abort() // a second abort changes nothing
		if r := await(t, ex, h); !errors.Is(r.Err, future.ErrAborted) {
			t.Fatalf("join = %+v, want ErrAborted", r)
		}
		h.Abort() // nor does one after completion
		if f.polls.Load() != 1 || f.drops.Load() != 1 {
			t.Fatalf("polls %d drops %d, want 1 and 1", f.polls.Load(), f.drops.Load())
		}
	})
}

func TestAbortFromAnotherTask(t *testing.T) {
	leakcheck.Check(t)
	forEachExecutor(t, func(t *testing.T, ex Executor) {
		f := &forever{}
		victim := spawn(t, ex, f)
		killer := spawn(t, ex, fnFuture[int](func(cx *future.Context) future.Poll[int] {
			if f.polls.Load() == 0 {
				cx.Waker().Wake() // come back once the victim ran
				return future.Pending[int]()
			}
			victim.Abort()
			r, ok := victim.Poll(cx).Value()
			if !ok {
				return future.Pending[int]()
			}
			if !errors.Is(r.Err, future.ErrAborted) {
				t.Errorf("victim = %+v, want ErrAborted", r)
			}
			return future.Ready(1)
		}))
		if r := await(t, ex, killer); r.Err != nil {
			t.Fatalf("killer: %v", r.Err)
		}
		if f.drops.Load() != 1 {
			t.Fatalf("drops = %d, want 1", f.drops.Load())
		}
	})
}

func TestAbortDuringPoll(t *testing.T) {
	leakcheck.Check(t)
	forEachExecutor(t, func(t *testing.T, ex Executor) {
		// The handle reaches the task through an atomic: on a Runtime the
		// task may run before Spawn returns. Until it is there the task
		// waits, woken by itself.
		selfAborting := func(self *atomic.Pointer[JoinHandle[int]], then future.Poll[int], drops *atomic.Int32) *droppable {
			return &droppable{poll: func(cx *future.Context) future.Poll[int] {
				h := self.Load()
				if h == nil {
					cx.Waker().Wake()
					return future.Pending[int]()
				}
				h.Abort()
				return then
			}, drops: drops}
		}
		var drops atomic.Int32
		var self, self2 atomic.Pointer[JoinHandle[int]]
		self.Store(spawn[int](t, ex, selfAborting(&self, future.Pending[int](), &drops)))
		if r := await(t, ex, self.Load()); !errors.Is(r.Err, future.ErrAborted) || drops.Load() != 1 {
			t.Fatalf("abort during a pending poll: %+v, drops %d", r, drops.Load())
		}
		self2.Store(spawn[int](t, ex, selfAborting(&self2, future.Ready(9), &drops)))
		if r := await(t, ex, self2.Load()); r.Err != nil || r.Value != 9 || drops.Load() != 1 {
			t.Fatalf("abort during a completing poll: %+v, drops %d; want the value, no drop", r, drops.Load())
		}
	})
}

// droppable is a future made of a poll function that counts its drops.
type droppable struct {
	poll  func(cx *future.Context) future.Poll[int]
	drops *atomic.Int32
}

func (d *droppable) Poll(cx *future.Context) future.Poll[int] { return d.poll(cx) }
func (d *droppable) Drop()                                    { d.drops.Add(1) }

func TestPanicBecomesPanicError(t *testing.T) {
	leakcheck.Check(t)
	forEachExecutor(t, func(t *testing.T, ex Executor) {
		var drops atomic.Int32
		h := spawn[int](t, ex, &droppable{poll: func(*future.Context) future.Poll[int] {
			panic(io.ErrUnexpectedEOF)
		}, drops: &drops})
		r := await(t, ex, h)
		var pe *future.PanicError
		if !errors.As(r.Err, &pe) || !errors.Is(r.Err, io.ErrUnexpectedEOF) || len(pe.Stack) == 0 {
			t.Fatalf("join = %+v, want a PanicError wrapping the panic value, with a stack", r)
		}
		if drops.Load() != 1 {
			t.Fatalf("drops = %d, want 1 (a panicked future is abandoned)", drops.Load())
		}
		h2 := spawn(t, ex, fnFuture[int](func(*future.Context) future.Poll[int] { panic("plain") }))
		if r := await(t, ex, h2); !errors.As(r.Err, &pe) || pe.Value != "plain" {
			t.Fatalf("join = %+v, want PanicError{plain}", r)
		}
		// The executor keeps working.
		if r := await(t, ex, spawn(t, ex, ready(3))); r.Value != 3 {
			t.Fatalf("after panics: %+v", r)
		}
	})
}

func TestDetach(t *testing.T) {
	leakcheck.Check(t)
	forEachExecutor(t, func(t *testing.T, ex Executor) {
		g := newGate()
		h := spawn[struct{}](t, ex, g)
		var wakes atomic.Int32
		cx := future.NewContext(future.NewWaker(wakeCounter{&wakes}), nil)
		if h.Poll(cx).IsReady() {
			t.Fatalf("ready before the gate opened")
		}
		h.Detach()
		settle(t, ex)
		g.Open()
		for !h.IsFinished() {
			settle(t, ex)
		}
		if wakes.Load() != 0 {
			t.Fatalf("a detached handle's waker was woken %d times", wakes.Load())
		}
		if r, ok := h.Poll(cx).Value(); !ok || r.Err != nil {
			t.Fatalf("poll after finish = %+v %v", r, ok)
		}
	})
}

type wakeCounter struct{ n *atomic.Int32 }

func (w wakeCounter) Wake() { w.n.Add(1) }

func TestYieldNow(t *testing.T) {
	leakcheck.Check(t)
	forEachExecutor(t, func(t *testing.T, ex Executor) {
		const n = 100
		var y Yield
		count := 0
		before := ex.Stats().TasksPolled
		h := spawn(t, ex, fnFuture[int](func(cx *future.Context) future.Poll[int] {
			for count < n {
				if y.Poll(cx).IsPending() {
					return future.Pending[int]()
				}
				y = Yield{}
				count++
			}
			return future.Ready(count)
		}))
		if r := await(t, ex, h); r.Value != n {
			t.Fatalf("join = %+v", r)
		}
		if polls := ex.Stats().TasksPolled - before; polls != n+1 {
			t.Fatalf("polls = %d, want %d (one per yield, plus the last)", polls, n+1)
		}
	})
}

func TestBadInput(t *testing.T) {
	leakcheck.Check(t)
	if _, err := Spawn[int](nil, ready(1)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Spawn(nil) = %v", err)
	}
	if _, err := BlockOn[int](nil, ready(1)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("BlockOn(nil) = %v", err)
	}
	if _, err := NewLocal(WithDriver("no-such-driver")); err == nil {
		t.Fatalf("NewLocal with an unknown driver succeeded")
	}
	forEachExecutor(t, func(t *testing.T, ex Executor) {
		if _, err := Spawn[int](ex, nil); !errors.Is(err, ErrInvalid) {
			t.Fatalf("Spawn(nil future) = %v", err)
		}
		if _, err := SpawnBlocking[int](ex, nil); !errors.Is(err, ErrInvalid) {
			t.Fatalf("SpawnBlocking(nil) = %v", err)
		}
	})
}
