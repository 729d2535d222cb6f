package executor

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/leakcheck"
)

// forEachLocal runs fn on a fresh Local on every test driver, closing it
// when the subtest ends.
func forEachLocal(t *testing.T, fn func(t *testing.T, l *Local)) {
	t.Helper()
	forEachDriver(t, func(t *testing.T, d string) {
		l, err := NewLocal(WithDriver(d))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := l.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		fn(t, l)
	})
}

// counter is a future that counts its polls and is ready at the n-th,
// waking itself by reference in between.
type counter struct {
	n     int
	polls atomic.Int32
}

func (c *counter) Poll(cx *future.Context) future.Poll[int] {
	if p := int(c.polls.Add(1)); p >= c.n {
		return future.Ready(p)
	}
	cx.Waker().Wake()
	return future.Pending[int]()
}

func mustSpawn[T any](t *testing.T, s Spawner, f future.Future[T]) *JoinHandle[T] {
	t.Helper()
	h, err := Spawn(s, f)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestRunNoWaitPollsEachRunnableTaskOnceAndNeverBlocks(t *testing.T) {
	forEachLocal(t, func(t *testing.T, l *Local) {
		c := &counter{n: 3}
		h := mustSpawn(t, l, future.Future[int](c))
		pending := mustSpawn(t, l, Sleep(time.Hour))
		for i := 1; i <= 3; i++ {
			alive, err := l.Run(RunNoWait)
			if err != nil || !alive {
				t.Fatalf("Run %d: alive %v, %v; want alive", i, alive, err)
			}
			if got := int(c.polls.Load()); got < i {
				t.Fatalf("after Run %d: %d polls", i, got)
			}
		}
		if !h.IsFinished() {
			t.Fatal("the counting task did not finish in three runs")
		}
		pending.Abort()
		if alive, err := l.Run(RunDefault); err != nil || alive {
			t.Fatalf("RunDefault after the abort: alive %v, %v", alive, err)
		}
	})
}

func TestRunOnceWaitsForATimerNotEarly(t *testing.T) {
	forEachLocal(t, func(t *testing.T, l *Local) {
		const d = 20 * time.Millisecond
		start := time.Now()
		h := mustSpawn(t, l, Sleep(d))
		for !h.IsFinished() {
			if _, err := l.Run(RunOnce); err != nil {
				t.Fatal(err)
			}
			if time.Since(start) > time.Minute {
				t.Fatal("the sleep never finished")
			}
		}
		if el := time.Since(start); el < d {
			t.Fatalf("a %v sleep finished after %v", d, el)
		}
		if alive, err := l.Run(RunOnce); err != nil || alive {
			t.Fatalf("RunOnce with nothing alive: alive %v, %v (it must return at once)", alive, err)
		}
	})
}

func TestRunDefaultRunsUntilNoTaskIsLeft(t *testing.T) {
	forEachLocal(t, func(t *testing.T, l *Local) {
		var hs []*JoinHandle[future.Result[struct{}]]
		for i := range 50 {
			hs = append(hs, mustSpawn(t, l, future.Future[future.Result[struct{}]](Sleep(time.Duration(i%5)*time.Millisecond))))
		}
		alive, err := l.Run(RunDefault)
		if err != nil || alive {
			t.Fatalf("RunDefault: alive %v, %v", alive, err)
		}
		for i, h := range hs {
			if !h.IsFinished() {
				t.Fatalf("task %d not finished", i)
			}
		}
	})
}

func TestRunStopFromATask(t *testing.T) {
	forEachLocal(t, func(t *testing.T, l *Local) {
		pending := mustSpawn(t, l, Sleep(time.Hour))
		var after atomic.Bool
		mustSpawn(t, l, future.PollFn(func(cx *future.Context) future.Poll[struct{}] {
			l.Stop()
			return future.Ready(struct{}{})
		}))
		alive, err := l.Run(RunDefault)
		if err != nil || !alive {
			t.Fatalf("RunDefault stopped by a task: alive %v, %v; want alive", alive, err)
		}
		after.Store(true)
		// The Stop was that Run's: the next one runs on.
		pending.Abort()
		if alive, err := l.Run(RunDefault); err != nil || alive {
			t.Fatalf("next RunDefault: alive %v, %v", alive, err)
		}
	})
}

func TestRunStopFromAnotherGoroutineEndsABlockedRun(t *testing.T) {
	forEachLocal(t, func(t *testing.T, l *Local) {
		pending := mustSpawn(t, l, Sleep(time.Hour))
		go func() {
			time.Sleep(10 * time.Millisecond)
			l.Stop()
		}()
		alive, err := l.Run(RunDefault)
		if err != nil || !alive {
			t.Fatalf("RunDefault: alive %v, %v", alive, err)
		}
		pending.Abort()
		if _, err := l.Run(RunDefault); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRunStopBeforeRunReturnsAtOnce(t *testing.T) {
	forEachLocal(t, func(t *testing.T, l *Local) {
		c := &counter{n: 1 << 30}
		h := mustSpawn(t, l, future.Future[int](c))
		l.Stop()
		if alive, err := l.Run(RunDefault); err != nil || !alive {
			t.Fatalf("RunDefault after Stop: alive %v, %v", alive, err)
		}
		if got := c.polls.Load(); got != 0 {
			t.Fatalf("a stopped Run polled the task %d times", got)
		}
		h.Abort()
		if _, err := l.Run(RunDefault); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRunWakesFromEightGoroutinesWhileBlocked(t *testing.T) {
	forEachLocal(t, func(t *testing.T, l *Local) {
		const goroutines, rounds = 8, 200
		var received atomic.Int64
		chans := make([]*future.Channel[int], goroutines)
		for i := range goroutines {
			ch, err := future.NewChannel[int](1)
			if err != nil {
				t.Fatal(err)
			}
			chans[i] = ch
			rx := ch.Recv()
			mustSpawn(t, l, future.PollFn(func(cx *future.Context) future.Poll[struct{}] {
				for {
					r, ok := rx.Poll(cx).Value()
					if !ok {
						return future.Pending[struct{}]()
					}
					if r.Err != nil {
						return future.Ready(struct{}{})
					}
					received.Add(1)
					rx.Reset()
				}
			}))
		}
		var wg sync.WaitGroup
		for _, ch := range chans {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range rounds {
					if r := future.BlockOn(ch.Send(i)); r.Err != nil {
						t.Error(r.Err)
						return
					}
				}
				ch.Close()
			}()
		}
		alive, err := l.Run(RunDefault)
		wg.Wait()
		if err != nil || alive {
			t.Fatalf("RunDefault: alive %v, %v", alive, err)
		}
		if got := received.Load(); got != goroutines*rounds {
			t.Fatalf("received %d, want %d", got, goroutines*rounds)
		}
	})
}

func TestRunRefusesASecondLoop(t *testing.T) {
	forEachLocal(t, func(t *testing.T, l *Local) {
		var inner error
		mustSpawn(t, l, future.PollFn(func(cx *future.Context) future.Poll[struct{}] {
			_, inner = l.Run(RunNoWait)
			return future.Ready(struct{}{})
		}))
		if _, err := l.Run(RunDefault); err != nil {
			t.Fatal(err)
		}
		if !errors.Is(inner, ErrRunning) {
			t.Fatalf("Run from a task: %v, want ErrRunning", inner)
		}
		if _, err := l.BackendTimeout(); err != nil {
			t.Fatalf("BackendTimeout outside Run: %v", err)
		}
		pending := mustSpawn(t, l, Sleep(time.Hour))
		started := make(chan struct{})
		mustSpawn(t, l, future.PollFn(func(cx *future.Context) future.Poll[struct{}] {
			close(started)
			return future.Ready(struct{}{})
		}))
		done := make(chan error, 1)
		go func() {
			_, err := l.Run(RunDefault)
			done <- err
		}()
		<-started
		if _, err := l.Run(RunNoWait); !errors.Is(err, ErrRunning) {
			t.Errorf("Run while another goroutine runs: %v, want ErrRunning", err)
		}
		if _, err := l.BackendTimeout(); !errors.Is(err, ErrRunning) {
			t.Errorf("BackendTimeout while another goroutine runs: %v, want ErrRunning", err)
		}
		pending.Abort()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if _, err := l.Run(RunMode(9)); !errors.Is(err, ErrInvalid) {
			t.Fatalf("Run(9): %v, want ErrInvalid", err)
		}
	})
}

func TestRunEndsWithErrClosedWhenShutDown(t *testing.T) {
	forEachDriver(t, func(t *testing.T, d string) {
		l, err := NewLocal(WithDriver(d))
		if err != nil {
			t.Fatal(err)
		}
		dropped := make(chan struct{})
		mustSpawn(t, l, future.Future[struct{}](&dropSignal{done: dropped}))
		started := make(chan struct{})
		mustSpawn(t, l, future.PollFn(func(cx *future.Context) future.Poll[struct{}] {
			close(started)
			return future.Ready(struct{}{})
		}))
		ran := make(chan error, 1)
		go func() {
			_, err := l.Run(RunDefault)
			ran <- err
		}()
		<-started
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-ran; !errors.Is(err, future.ErrClosed) {
			t.Fatalf("Run during Close: %v, want ErrClosed", err)
		}
		<-dropped
		if _, err := l.Run(RunNoWait); !errors.Is(err, future.ErrClosed) {
			t.Fatalf("Run after Close: %v, want ErrClosed", err)
		}
	})
}

// dropSignal is pending forever and closes done when dropped.
type dropSignal struct{ done chan struct{} }

func (d *dropSignal) Poll(*future.Context) future.Poll[struct{}] { return future.Pending[struct{}]() }
func (d *dropSignal) Drop()                                      { close(d.done) }

func TestKeepAliveHoldsRunDefault(t *testing.T) {
	forEachLocal(t, func(t *testing.T, l *Local) {
		l.KeepAlive(1)
		released := make(chan struct{})
		go func() {
			time.Sleep(10 * time.Millisecond)
			close(released)
			l.KeepAlive(-1)
		}()
		if alive, err := l.Run(RunDefault); err != nil || alive {
			t.Fatalf("RunDefault: alive %v, %v", alive, err)
		}
		select {
		case <-released:
		default:
			t.Fatal("RunDefault returned while the count was held")
		}
	})
}

func TestBackendTimeoutFollowsTheWork(t *testing.T) {
	forEachLocal(t, func(t *testing.T, l *Local) {
		if d, err := l.BackendTimeout(); err != nil || d != -1 {
			t.Fatalf("idle: %v, %v; want -1", d, err)
		}
		h := mustSpawn(t, l, Sleep(time.Hour))
		if d, err := l.BackendTimeout(); err != nil || d != 0 {
			t.Fatalf("with a runnable task: %v, %v; want 0", d, err)
		}
		if _, err := l.Run(RunNoWait); err != nil {
			t.Fatal(err)
		}
		if d, err := l.BackendTimeout(); err != nil || d <= 0 || d > time.Hour+time.Second {
			t.Fatalf("with an hour's sleep pending: %v, %v", d, err)
		}
		l.Stop()
		if d, err := l.BackendTimeout(); err != nil || d != 0 {
			t.Fatalf("with a Stop pending: %v, %v; want 0", d, err)
		}
		h.Abort()
		if _, err := l.Run(RunNoWait); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Run(RunDefault); err != nil {
			t.Fatal(err)
		}
	})
}

func TestBackendFDIsOfferedByPollableDrivers(t *testing.T) {
	forEachLocal(t, func(t *testing.T, l *Local) {
		_, pollable := l.drv.(driver.Pollable)
		_, err := l.BackendFD()
		if pollable && err != nil {
			t.Fatalf("BackendFD on %s: %v", l.DriverName(), err)
		}
		if !pollable && !errors.Is(err, driver.ErrNotSupported) {
			t.Fatalf("BackendFD on %s: %v, want ErrNotSupported", l.DriverName(), err)
		}
	})
	leakcheck.Check(t)
}

// A host program drives a Local from its own loop: Run with RunDefault
// returns once no task is left.
func ExampleLocal_Run() {
	l, err := NewLocal()
	if err != nil {
		panic(err)
	}
	defer l.Close()
	h, _ := Spawn(l, future.Future[future.Result[struct{}]](Sleep(time.Millisecond)))
	alive, err := l.Run(RunDefault)
	fmt.Println(alive, err, h.IsFinished())
	// Output: false <nil> true
}
