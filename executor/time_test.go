package executor

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/leakcheck"
)

// sleeper is a task body that sleeps and then records when it woke. Only
// sleepers that waited in the wheel join order: one whose deadline had
// passed by its first poll is ready at that poll, whenever the executor
// gets to it, so its place says nothing about the wheel's order.
type sleeper struct {
	s      *SleepFuture
	order  *[]int
	mu     *sync.Mutex
	id     int
	waited bool
}

func (s *sleeper) Poll(cx *future.Context) future.Poll[time.Time] {
	r, ok := s.s.Poll(cx).Value()
	if !ok {
		s.waited = true
		return future.Pending[time.Time]()
	}
	if r.Err != nil {
		panic(r.Err)
	}
	now := time.Now()
	if s.waited {
		s.mu.Lock()
		*s.order = append(*s.order, s.id)
		s.mu.Unlock()
	}
	return future.Ready(now)
}

func TestTimersNeverEarlyAndInOrder(t *testing.T) {
	leakcheck.Check(t)
	forEachExecutor(t, func(t *testing.T, ex Executor) {
		const n = 200
		var (
			mu     sync.Mutex
			order  []int
			hs     []*JoinHandle[time.Time]
			sleeps []*SleepFuture
		)
		durs := make([]time.Duration, n)
		for i := range n {
			// Five groups 15 ms apart, spread within each group.
			durs[i] = time.Duration(i%5)*15*time.Millisecond + time.Duration(rand.IntN(3000))*time.Microsecond
		}
		for i, d := range durs {
			s := Sleep(d)
			sleeps = append(sleeps, s)
			hs = append(hs, spawn[time.Time](t, ex, &sleeper{s: s, order: &order, mu: &mu, id: i}))
		}
		for i, h := range hs {
			r := await(t, ex, h)
			if r.Err != nil {
				t.Fatalf("sleeper %d: %v", i, r.Err)
			}
			if r.Value.Before(sleeps[i].Deadline()) {
				t.Fatalf("sleeper %d woke %v before its deadline", i, sleeps[i].Deadline().Sub(r.Value))
			}
		}
		// Timers fire in the order of their deadline ticks, and Local polls
		// woken tasks in wake order, so it keeps that order exactly. A
		// Runtime runs the woken tasks on several workers, any of which the
		// OS may stop for a while, so the order of their polls proves
		// nothing there (the wheel's own order is checked by
		// TestWheelFiresExactlyAtDeadlines).
		if _, ok := ex.(*Local); ok {
			var latest uint64
			for _, id := range order {
				tick := ceilTick(sleeps[id].deadline)
				if tick < latest {
					t.Fatalf("a sleeper due at tick %d woke after one due at tick %d", tick, latest)
				}
				latest = max(latest, tick)
			}
		}
		if st := ex.Stats(); st.TimersFired < n-n/5 || st.TimersInserted < n-n/5 {
			t.Fatalf("stats = %+v, want about %d timers inserted and fired", st, n)
		}
	})
}

func TestSleepZeroAndPast(t *testing.T) {
	leakcheck.Check(t)
	forEachExecutor(t, func(t *testing.T, ex Executor) {
		before := ex.Stats().TimersInserted
		for _, f := range []*SleepFuture{Sleep(0), Sleep(-time.Hour), SleepUntil(time.Now().Add(-time.Second))} {
			if r, err := BlockOn[future.Result[struct{}]](ex, f); err != nil || r.Err != nil {
				t.Fatalf("sleep: %v %v", err, r.Err)
			}
		}
		if got := ex.Stats().TimersInserted - before; got != 0 {
			t.Fatalf("%d timers inserted for sleeps that were due", got)
		}
	})
}

func TestSleepCancelAndHuge(t *testing.T) {
	leakcheck.Check(t)
	forEachExecutor(t, func(t *testing.T, ex Executor) {
		huge := Sleep(math.MaxInt64)
		long := Sleep(time.Hour)
		short := Sleep(5 * time.Millisecond)
		var sawPending bool
		f := fnFuture[int](func(cx *future.Context) future.Poll[int] {
			if !sawPending {
				for _, s := range []*SleepFuture{huge, long, short} {
					if s.Poll(cx).IsReady() {
						t.Errorf("sleep ready at its first poll")
					}
				}
				sawPending = true
				huge.Drop()
				long.Drop()
			}
			if short.Poll(cx).IsPending() {
				return future.Pending[int]()
			}
			return future.Ready(1)
		})
		st0 := ex.Stats()
		if _, err := BlockOn[int](ex, f); err != nil {
			t.Fatal(err)
		}
		st := ex.Stats()
		if st.TimersInserted-st0.TimersInserted != 3 || st.TimersFired-st0.TimersFired != 1 {
			t.Fatalf("stats %+v -> %+v: want 3 inserted, 1 fired", st0, st)
		}
		if l, ok := ex.(*Local); ok {
			if _, pending := l.wheel.nextDeadline(); pending {
				t.Fatalf("dropped sleeps are still in the wheel")
			}
		}
		if d := huge.Deadline(); d.Before(time.Now().Add(100 * 365 * 24 * time.Hour)) {
			t.Fatalf("huge deadline %v saturated too early", d)
		}
	})
}

func TestSleepCascades(t *testing.T) {
	leakcheck.Check(t)
	forEachExecutor(t, func(t *testing.T, ex Executor) {
		start := time.Now()
		var hs []*JoinHandle[future.Result[struct{}]]
		for _, d := range []time.Duration{70, 71, 90, 130} {
			hs = append(hs, spawn[future.Result[struct{}]](t, ex, Sleep(d*time.Millisecond)))
		}
		for _, h := range hs {
			if r := await(t, ex, h); r.Err != nil || r.Value.Err != nil {
				t.Fatalf("sleep: %+v", r)
			}
		}
		if el := time.Since(start); el < 130*time.Millisecond {
			t.Fatalf("sleeps done after %v, before the longest deadline", el)
		}
		if st := ex.Stats(); st.TimersCascaded == 0 {
			t.Fatalf("no cascade counted for sleeps beyond level 0: %+v", st)
		}
	})
}

func TestTimeout(t *testing.T) {
	leakcheck.Check(t)
	forEachExecutor(t, func(t *testing.T, ex Executor) {
		f := &forever{}
		start := time.Now()
		r, err := BlockOn[future.Result[int]](ex, Timeout[int](10*time.Millisecond, f))
		if err != nil || !errors.Is(r.Err, ErrTimeout) || !errors.Is(r.Err, os.ErrDeadlineExceeded) {
			t.Fatalf("Timeout = %+v, %v; want ErrTimeout", r, err)
		}
		if time.Since(start) < 10*time.Millisecond {
			t.Fatalf("timed out early")
		}
		if f.drops.Load() != 1 {
			t.Fatalf("inner future dropped %d times, want 1", f.drops.Load())
		}
		r, err = BlockOn[future.Result[int]](ex, Timeout(time.Hour, ready(5)))
		if err != nil || r.Err != nil || r.Value != 5 {
			t.Fatalf("Timeout of a ready future = %+v, %v", r, err)
		}
		f2 := &forever{}
		to := Timeout[int](time.Hour, f2)
		if _, err := BlockOn[int](ex, fnFuture[int](func(cx *future.Context) future.Poll[int] {
			to.Poll(cx)
			return future.Ready(0)
		})); err != nil {
			t.Fatal(err)
		}
		to.Drop()
		if f2.drops.Load() != 1 {
			t.Fatalf("dropping a Timeout dropped its future %d times", f2.drops.Load())
		}
	})
}

func TestInterval(t *testing.T) {
	leakcheck.Check(t)
	if _, err := NewInterval(0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("NewInterval(0) = %v", err)
	}
	forEachExecutor(t, func(t *testing.T, ex Executor) {
		const period = 10 * time.Millisecond
		start := time.Now()
		iv, err := NewInterval(period)
		if err != nil {
			t.Fatal(err)
		}
		defer iv.Drop()
		var prev time.Time
		for k := 1; k <= 3; k++ {
			r, err := BlockOn(ex, iv.Tick())
			if err != nil || r.Err != nil {
				t.Fatalf("tick %d: %v %v", k, err, r.Err)
			}
			if now := time.Now(); now.Before(r.Value) || r.Value.Before(start.Add(time.Duration(k)*period)) {
				t.Fatalf("tick %d at %v: early (start %v)", k, r.Value.Sub(start), now.Sub(start))
			}
			if !r.Value.After(prev) {
				t.Fatalf("tick %d not after the previous one", k)
			}
			prev = r.Value
		}
		// A consumer late by several periods gets one tick at once, then
		// the grid resumes after now: no burst.
		time.Sleep(5 * period)
		late := time.Now()
		r, _ := BlockOn(ex, iv.Tick())
		r2, _ := BlockOn(ex, iv.Tick())
		if r.Err != nil || r2.Err != nil || !r2.Value.After(late) {
			t.Fatalf("after missed ticks: next tick scheduled at %v, want after %v", r2.Value, late)
		}
	})
}

func TestTimersOutsideRuntime(t *testing.T) {
	leakcheck.Check(t)
	cx := future.NewContext(future.NoopWaker(), nil)
	if r, _ := Sleep(time.Millisecond).Poll(cx).Value(); !errors.Is(r.Err, future.ErrNoRuntime) {
		t.Fatalf("Sleep outside a runtime = %v", r.Err)
	}
	if r, _ := Timeout[int](time.Millisecond, &forever{}).Poll(cx).Value(); !errors.Is(r.Err, future.ErrNoRuntime) {
		t.Fatalf("Timeout outside a runtime = %v", r.Err)
	}
}

// The wheel itself, on synthetic time.

func newTestEntry(when uint64) *timerEntry {
	e := &timerEntry{when: when, level: unlinked}
	return e
}

func TestWheelFiresExactlyAtDeadlines(t *testing.T) {
	leakcheck.Check(t)
	w := &wheel{}
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 3000
	entries := make([]*timerEntry, n)
	for i := range entries {
		// Spread over every level: up to 64^4 ticks.
		when := uint64(1) + rng.Uint64N(1<<uint(6+rng.IntN(18)))
		entries[i] = newTestEntry(when)
		w.mu.Lock()
		if !w.insertLocked(entries[i]) {
			t.Fatalf("insert of a future tick refused")
		}
		w.mu.Unlock()
	}
	// Cancel every third entry.
	for i := 0; i < n; i += 3 {
		w.mu.Lock()
		w.removeLocked(entries[i])
		w.mu.Unlock()
	}
	fired := 0
	var buf []future.Waker
	for now := uint64(0); ; {
		tick, ok := w.nextDeadline()
		if !ok {
			break
		}
		if tick <= now && now > 0 {
			t.Fatalf("next deadline %d not after processed time %d", tick, now)
		}
		now = tick
		for {
			var more bool
			buf, more = w.advance(now, buf[:0])
			if !more {
				break
			}
		}
		for i, e := range entries {
			if e.fired.Load() && e.when > now {
				t.Fatalf("entry %d (tick %d) fired at %d: early", i, e.when, now)
			}
		}
		fired = 0
		for _, e := range entries {
			if e.fired.Load() {
				fired++
			}
		}
	}
	for i, e := range entries {
		if want := i%3 != 0; e.fired.Load() != want {
			t.Fatalf("entry %d fired=%v, want %v", i, e.fired.Load(), want)
		}
	}
	if fired != n-(n+2)/3 || w.fired != uint64(fired) || w.cascaded == 0 {
		t.Fatalf("fired %d (counter %d), cascaded %d", fired, w.fired, w.cascaded)
	}
}

func TestWheelFarHorizon(t *testing.T) {
	leakcheck.Check(t)
	w := &wheel{elapsed: wheelSpan - 3}
	near := newTestEntry(wheelSpan + 2) // crosses the top level's horizon
	far := newTestEntry(5 * wheelSpan)
	for _, e := range []*timerEntry{near, far} {
		w.mu.Lock()
		w.insertLocked(e)
		w.mu.Unlock()
	}
	if near.level != farLevel || far.level != farLevel {
		t.Fatalf("levels %d %d, want the overflow list", near.level, far.level)
	}
	var buf []future.Waker
	buf, _ = w.advance(wheelSpan+1, buf)
	if near.fired.Load() || far.fired.Load() {
		t.Fatalf("fired early")
	}
	buf, _ = w.advance(wheelSpan+2, buf[:0])
	if !near.fired.Load() || far.fired.Load() {
		t.Fatalf("near fired %v, far fired %v", near.fired.Load(), far.fired.Load())
	}
	for now := uint64(wheelSpan + 2); !far.fired.Load(); {
		tick, ok := w.nextDeadline()
		if !ok || tick > far.when || tick <= now {
			t.Fatalf("next deadline %d (ok %v) after %d, far entry at %d", tick, ok, now, far.when)
		}
		now = tick
		buf, _ = w.advance(now, buf[:0])
		if far.fired.Load() && now != far.when {
			t.Fatalf("far entry fired at %d, want %d", now, far.when)
		}
	}
}

func TestTickRounding(t *testing.T) {
	leakcheck.Check(t)
	for _, c := range []struct {
		ns          int64
		ceil, floor uint64
	}{{0, 0, 0}, {1, 1, 0}, {999_999, 1, 0}, {1_000_000, 1, 1}, {1_000_001, 2, 1}} {
		if got := ceilTick(c.ns); got != c.ceil {
			t.Errorf("ceilTick(%d) = %d, want %d", c.ns, got, c.ceil)
		}
		if got := floorTick(c.ns); got != c.floor {
			t.Errorf("floorTick(%d) = %d, want %d", c.ns, got, c.floor)
		}
	}
	if timeoutUntil(math.MaxUint64) != -1 {
		t.Errorf("timeoutUntil(huge) should block without limit")
	}
}

// earlyCheck awaits a Sleep and counts a wake before its deadline.
type earlyCheck struct {
	s     *SleepFuture
	early *atomic.Int32
}

func (e *earlyCheck) Poll(cx *future.Context) future.Poll[int] {
	if e.s.Poll(cx).IsPending() {
		return future.Pending[int]()
	}
	if time.Now().Before(e.s.Deadline()) {
		e.early.Add(1)
	}
	return future.Ready(0)
}

func TestManySleepsAllFireNoneEarly(t *testing.T) {
	leakcheck.Check(t)
	forEachExecutor(t, func(t *testing.T, ex Executor) {
		const n = 20_000
		var early atomic.Int32
		before := ex.Stats()
		r, err := BlockOn[int](ex, &spawnJoinAll{n: n, mk: func(i int) future.Future[int] {
			return &earlyCheck{s: Sleep(time.Duration(1+i%100) * time.Millisecond), early: &early}
		}})
		if err != nil || r != n {
			t.Fatalf("BlockOn = %d, %v", r, err)
		}
		if early.Load() != 0 {
			t.Fatalf("%d sleeps woke early", early.Load())
		}
		// Sleeps already due when first polled never enter the wheel.
		st := ex.Stats()
		if ins, fired := st.TimersInserted-before.TimersInserted, st.TimersFired-before.TimersFired; ins != fired || ins == 0 {
			t.Fatalf("%d timers inserted, %d fired: want all inserted ones fired", ins, fired)
		}
	})
}

func TestWakeOfParkedExecutor(t *testing.T) {
	leakcheck.Check(t)
	forEachExecutor(t, func(t *testing.T, ex Executor) {
		g := newGate()
		go func() {
			<-g.polled
			time.Sleep(20 * time.Millisecond) // let the executor go to sleep
			g.Open()
		}()
		before := ex.Stats()
		// The gate is a task, so that its wake comes from outside to an
		// idle executor (a Runtime's BlockOn sleeps on its own goroutine).
		if r := await(t, ex, spawn[struct{}](t, ex, g)); r.Err != nil {
			t.Fatal(r.Err)
		}
		st := ex.Stats()
		if _, ok := ex.(*Local); ok {
			if st.DriverWaits == before.DriverWaits || st.DriverWakes == before.DriverWakes {
				t.Fatalf("stats %+v -> %+v: want a driver wait ended by a wake", before, st)
			}
			return
		}
		// A Runtime wakes a worker sleeping beside the one in the driver.
		if st.Unparks == before.Unparks {
			t.Fatalf("stats %+v -> %+v: want a parked worker woken", before, st)
		}
	})
}
