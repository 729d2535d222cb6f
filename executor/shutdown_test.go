package executor

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/leakcheck"
)

func TestShutdownDropsThousandsOfPendingTasks(t *testing.T) {
	leakcheck.Check(t)
	forEachExecutor(t, func(t *testing.T, ex Executor) {
		const n = 5000
		fs := make([]*forever, n)
		hs := make([]*JoinHandle[int], n)
		for i := range fs {
			fs[i] = &forever{}
			hs[i] = spawn[int](t, ex, fs[i])
		}
		settle(t, ex) // most are polled once and wait; some may still be queued
		start := time.Now()
		if err := ex.Shutdown(time.Now().Add(20 * time.Millisecond)); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		if time.Since(start) < 20*time.Millisecond {
			t.Fatalf("Shutdown returned before its deadline with tasks pending")
		}
		for i, f := range fs {
			if f.drops.Load() != 1 {
				t.Fatalf("task %d dropped %d times, want 1", i, f.drops.Load())
			}
			r, ok := hs[i].Poll(future.NewContext(future.NoopWaker(), nil)).Value()
			if !ok || !errors.Is(r.Err, future.ErrClosed) {
				t.Fatalf("task %d: %+v %v, want ErrClosed", i, r, ok)
			}
		}
		if _, err := Spawn(ex, ready(1)); !errors.Is(err, future.ErrClosed) {
			t.Fatalf("Spawn after Shutdown = %v, want ErrClosed", err)
		}
		if _, err := SpawnBlocking(ex, func() (int, error) { return 1, nil }); !errors.Is(err, future.ErrClosed) {
			t.Fatalf("SpawnBlocking after Shutdown = %v, want ErrClosed", err)
		}
		f := &forever{}
		if _, err := BlockOn[int](ex, f); !errors.Is(err, future.ErrClosed) || f.drops.Load() != 1 {
			t.Fatalf("BlockOn after Shutdown = %v (drops %d), want ErrClosed and a drop", err, f.drops.Load())
		}
		if st := ex.Stats(); st.TasksCompleted != n {
			t.Fatalf("completed = %d, want %d", st.TasksCompleted, n)
		}
	})
}

func TestShutdownLetsTasksFinishInGrace(t *testing.T) {
	leakcheck.Check(t)
	forEachExecutor(t, func(t *testing.T, ex Executor) {
		const n = 1000
		var drops atomic.Int32
		hs := make([]*JoinHandle[int], n)
		for i := range hs {
			s := Sleep(time.Duration(5+i%20) * time.Millisecond)
			hs[i] = spawn[int](t, ex, &droppable{poll: func(cx *future.Context) future.Poll[int] {
				if s.Poll(cx).IsPending() {
					return future.Pending[int]()
				}
				return future.Ready(i)
			}, drops: &drops})
		}
		start := time.Now()
		if err := ex.Shutdown(time.Now().Add(time.Minute)); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		if el := time.Since(start); el > 30*time.Second {
			t.Fatalf("Shutdown waited %v although every task finished early", el)
		}
		for i, h := range hs {
			r, ok := h.Poll(future.NewContext(future.NoopWaker(), nil)).Value()
			if !ok || r.Err != nil || r.Value != i {
				t.Fatalf("task %d: %+v %v", i, r, ok)
			}
		}
		if drops.Load() != 0 {
			t.Fatalf("%d finished tasks were dropped", drops.Load())
		}
		if err := ex.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
	})
}

func TestShutdownWakesBlockOn(t *testing.T) {
	leakcheck.Check(t)
	forEachExecutor(t, func(t *testing.T, ex Executor) {
		f := &forever{}
		done := make(chan error)
		go func() {
			_, err := BlockOn[int](ex, f)
			done <- err
		}()
		for f.polls.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		if err := ex.Shutdown(time.Now().Add(time.Second)); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, future.ErrClosed) {
			t.Fatalf("BlockOn = %v, want ErrClosed", err)
		}
		if f.drops.Load() != 1 {
			t.Fatalf("BlockOn's future dropped %d times, want 1", f.drops.Load())
		}
	})
}

func TestSpawnBlocking(t *testing.T) {
	leakcheck.Check(t)
	forEachExecutor(t, func(t *testing.T, ex Executor) {
		f, err := SpawnBlocking(ex, func() (int, error) {
			time.Sleep(5 * time.Millisecond)
			return 8, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		r, err := BlockOn(ex, f)
		if err != nil || r.Err != nil || r.Value != 8 {
			t.Fatalf("SpawnBlocking = %+v, %v", r, err)
		}
		p, _ := SpawnBlocking(ex, func() (int, error) { panic("blocking") })
		r, _ = BlockOn(ex, p)
		var pe *future.PanicError
		if !errors.As(r.Err, &pe) || pe.Value != "blocking" {
			t.Fatalf("panicking SpawnBlocking = %+v", r)
		}
		// Close waits for a blocking function in flight.
		release := make(chan struct{})
		var finished atomic.Bool
		if _, err := SpawnBlocking(ex, func() (int, error) {
			<-release
			finished.Store(true)
			return 0, nil
		}); err != nil {
			t.Fatal(err)
		}
		go func() {
			time.Sleep(10 * time.Millisecond)
			close(release)
		}()
		if err := ex.Close(); err != nil {
			t.Fatal(err)
		}
		if !finished.Load() {
			t.Fatalf("Close returned before the blocking function did")
		}
	})
}

func TestRunUntilIdle(t *testing.T) {
	leakcheck.Check(t)
	forEachDriver(t, func(t *testing.T, d string) {
		l, err := NewLocal(WithDriver(d))
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		f := &forever{}
		spawn[int](t, l, f)
		h := spawn(t, l, ready(1))
		if err := l.RunUntilIdle(); err != nil {
			t.Fatal(err)
		}
		if !h.IsFinished() || f.polls.Load() != 1 {
			t.Fatalf("after RunUntilIdle: finished %v, polls %d", h.IsFinished(), f.polls.Load())
		}
		if l.DriverName() != d {
			t.Fatalf("DriverName = %q, want %q", l.DriverName(), d)
		}
		l.Close()
		if err := l.RunUntilIdle(); !errors.Is(err, future.ErrClosed) {
			t.Fatalf("RunUntilIdle after Close = %v", err)
		}
	})
}

// TestSpawnersRaceShutdown spawns from many goroutines while the executor
// runs and shuts down: every Spawn either fails with ErrClosed or yields a
// task that finishes, and every unfinished future is dropped exactly once.
func TestSpawnersRaceShutdown(t *testing.T) {
	leakcheck.Check(t)
	forEachExecutor(t, func(t *testing.T, ex Executor) {
		const spawners = 8
		type spawned struct {
			h *JoinHandle[int]
			f *forever
		}
		results := make([][]spawned, spawners)
		var wg sync.WaitGroup
		for g := range spawners {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					var fut future.Future[int] = ready(i)
					f := &forever{}
					if i%2 == 0 {
						fut = f
					}
					h, err := Spawn(ex, fut)
					if errors.Is(err, future.ErrClosed) {
						return
					}
					if err != nil {
						t.Errorf("Spawn: %v", err)
						return
					}
					results[g] = append(results[g], spawned{h, f})
				}
			}()
		}
		settle(t, ex)
		if err := ex.Shutdown(time.Now().Add(5 * time.Millisecond)); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		wg.Wait()
		total := 0
		for _, rs := range results {
			for i, s := range rs {
				if !s.h.IsFinished() {
					t.Fatalf("a task spawned before Shutdown was neither run nor dropped")
				}
				if i%2 == 0 && s.f.drops.Load() != 1 {
					t.Fatalf("a pending task was dropped %d times", s.f.drops.Load())
				}
				total++
			}
		}
		if total == 0 {
			t.Fatalf("no spawn succeeded")
		}
		if st := ex.Stats(); st.TasksSpawned != uint64(total) || st.TasksCompleted != uint64(total) {
			t.Fatalf("stats %+v, want %d spawned and completed", st, total)
		}
	})
}
