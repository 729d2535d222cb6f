package executor

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/future"
)

// ioInterval is how many task polls the loop runs between two non-blocking
// looks at the driver and the timers, so that a stream of ready tasks cannot
// starve I/O and timers (Tokio's event_interval has the same value).
const ioInterval = 61

// closedBit is the gate's flag for "shutdown began"; the rest of the gate
// counts spawns in flight in steps of 2.
const closedBit = 1

// Local is a single-threaded executor: every task runs on the goroutine
// that calls BlockOn (or RunUntilIdle, Shutdown), one at a time, so tasks
// never run in parallel with each other. Spawn, wakes and Abort are safe from
// any goroutine: they reach the loop through a lock-free queue and wake the
// driver if the loop waits in it. Timers and I/O are driven by the same
// goroutine, which waits in the driver with the next timer's deadline as its
// timeout when no task is runnable.
//
// Tasks spawned while no goroutine runs the loop wait until one does.
type Local struct {
	core

	// Owned by the goroutine that holds runMu (the loop).
	inbox   inbox
	runq    ring
	tasks   taskList
	cx      future.Context
	events  []driver.Event
	fireBuf []future.Waker
	sinceIO int

	// gate counts Spawn and SpawnBlocking calls in flight (steps of 2) and
	// carries closedBit once shutdown began. A spawner that saw no
	// closedBit in its Add is counted, so Shutdown, which sets the bit and
	// then waits for the count to drain, never misses its task.
	gate atomic.Int64
	// parked is true while the loop waits (or is about to wait) in the
	// driver. The loop stores true and then checks its queues; producers
	// push and then read parked: with sequentially consistent atomics one
	// of the two sees the other, so no wake is lost.
	parked atomic.Bool
	main   mainWaker

	// For Run (local_run.go). stop is a pending Stop, consumed by the Run
	// it ends. owner is the goroutine that last entered Run: between Runs
	// parked stays true, so that producers on other goroutines wake a host
	// that waits on BackendFD, while the owner's own spawns and wakes need
	// no wake-up (it is not waiting: it is making them). holds counts the
	// outside work that keeps RunDefault going (KeepAlive).
	stop  atomic.Bool
	owner atomic.Uintptr
	holds atomic.Int64

	runMu sync.Mutex // held by whoever runs the loop

	// Counters for Stats: each is a running total that orders nothing, so
	// relaxed use is enough (polled and completed are added once per batch).
	spawned, wakes, polled, completed, waits atomic.Uint64
}

// mainWaker wakes the future that BlockOn runs (it is no task).
type mainWaker struct {
	l *Local
	// notified is set by Wake and swapped back by the loop before it polls
	// the future, so a wake during that poll leaves it set and causes one
	// more poll; it pairs with parked like a task's push does.
	notified atomic.Bool
}

// Wake marks the BlockOn future for a poll and wakes the loop.
func (m *mainWaker) Wake() {
	if m.notified.Load() || m.notified.Swap(true) {
		return
	}
	m.l.kick()
}

// NewLocal returns a Local on the driver chosen by the options (the
// platform's default driver without WithDriver).
func NewLocal(opts ...Option) (*Local, error) {
	c := config{}.apply(opts)
	l := &Local{events: make([]driver.Event, 256)}
	if err := l.open(c.driver); err != nil {
		return nil, err
	}
	l.inbox.init()
	l.main.l = l
	return l, nil
}

func (l *Local) schedule(h *header)  { l.inbox.push(h); l.kick() }
func (l *Local) leave()              { l.gate.Add(-2) }
func (l *Local) closedForWork() bool { return l.gate.Load()&closedBit != 0 }

// enter counts a Spawn or SpawnBlocking in flight; false (and not counted)
// once shutdown began.
func (l *Local) enter() bool {
	if l.gate.Add(2)&closedBit == 0 {
		return true
	}
	l.leave()
	return false
}

// kick wakes the driver if the loop waits in it (or is about to), or if a
// host may wait on BackendFD, unless the caller is the goroutine that runs
// the loop, which waits for nothing while it is here.
func (l *Local) kick() {
	if l.parked.Load() && !l.isOwner() && l.parked.CompareAndSwap(true, false) {
		l.wakes.Add(1)
		// An error means the driver is closed, and then no loop waits.
		_ = l.drv.Wake()
	}
}

func (l *Local) spawnTask(h *header) error {
	if !l.enter() {
		return future.ErrClosed
	}
	h.sched = l
	l.inbox.push(h)
	l.spawned.Add(1)
	l.leave()
	l.kick()
	return nil
}

func (l *Local) goBlocking(fn func()) error {
	if !l.enter() {
		return future.ErrClosed
	}
	l.goBlockingCounted(fn)
	l.leave()
	return nil
}

func (l *Local) blockOn(poll func(cx *future.Context) bool, drop func()) error {
	l.runMu.Lock()
	defer l.runMu.Unlock()
	if l.closedForWork() {
		drop()
		return future.ErrClosed
	}
	l.main.notified.Store(true)
	err := l.runLoop(poll, modeMain, 0)
	if err != nil {
		drop()
	}
	return err
}

// RunUntilIdle runs tasks on the calling goroutine until none is runnable,
// looking at timers and I/O without waiting for them. It returns
// future.ErrClosed after Shutdown, and must not be called from a task.
func (l *Local) RunUntilIdle() error {
	l.runMu.Lock()
	defer l.runMu.Unlock()
	if l.closedForWork() {
		return future.ErrClosed
	}
	return l.runLoop(nil, modeIdle, 0)
}

// Shutdown stops accepting work (Spawn and SpawnBlocking then return
// future.ErrClosed), makes a BlockOn in progress (and any waiting to start)
// return future.ErrClosed, runs the remaining tasks on the calling goroutine
// until they all finished or deadline passed, then drops the rest: each
// unfinished future's Drop is called exactly once and its JoinHandle reports
// future.ErrClosed. It returns after every SpawnBlocking function in flight
// returned and the driver is closed. Later calls wait for the first to
// finish and return nil. It must not be called from a task of l.
func (l *Local) Shutdown(deadline time.Time) error {
	if !l.shutdown.begin() {
		return nil
	}
	l.gate.Or(closedBit)
	// Make a BlockOn waiting in the driver notice; the driver is open
	// until this function closes it.
	_ = l.drv.Wake()
	l.runMu.Lock()
	defer l.runMu.Unlock()
	for l.gate.Load() != closedBit {
		runtime.Gosched() // a spawn is between its check and its push
	}
	var err error
	if grace := time.Until(deadline); grace > 0 {
		err = l.runLoop(nil, modeGrace, deadlineAfter(grace))
	}
	l.dropAll()
	if cerr := l.closeServices(); err == nil {
		err = cerr
	}
	l.shutdown.end()
	return err
}

// Close is Shutdown with no grace period.
func (l *Local) Close() error { return l.Shutdown(time.Time{}) }

// Stats returns the counters; safe from any goroutine.
func (l *Local) Stats() Stats {
	st := Stats{
		TasksSpawned:   l.spawned.Load(),
		TasksPolled:    l.polled.Load(),
		TasksCompleted: l.completed.Load(),
		DriverWaits:    l.waits.Load(),
		DriverWakes:    l.wakes.Load(),
	}
	l.timerStats(&st)
	return st
}

type loopMode uint8

const (
	modeMain  loopMode = iota // until the BlockOn future is ready or shutdown
	modeIdle                  // until no task is runnable
	modeGrace                 // until no task is left or the deadline passed
	modeRun                   // until Stop, shutdown, or nothing keeps the loop alive
)

// runLoop is the executor: it polls the main future when woken, runs
// batches of tasks, and waits in the driver when nothing is runnable.
func (l *Local) runLoop(main func(*future.Context) bool, mode loopMode, deadline int64) error {
	for {
		if mode == modeRun {
			if l.closedForWork() {
				return future.ErrClosed
			}
			if l.stop.Load() || !l.alive() {
				return nil
			}
		}
		if mode == modeMain {
			if l.closedForWork() {
				return future.ErrClosed
			}
			if l.main.notified.Load() && l.main.notified.Swap(false) {
				l.cx.Reset(future.WakerFor(&l.main), l)
				if main(&l.cx) {
					return nil
				}
				// The main future counts against the budget like a task,
				// so one that keeps waking itself cannot starve I/O and
				// timers.
				l.spend()
			}
		}
		l.runBatch()
		if l.runnable(mode) {
			continue
		}
		var timeout time.Duration
		switch mode {
		case modeGrace:
			if l.tasks.n == 0 {
				return nil
			}
			left := time.Duration(deadline - nowNanos())
			if left <= 0 {
				return nil
			}
			timeout = l.timerTimeout()
			if timeout < 0 || left < timeout {
				timeout = left
			}
		case modeMain, modeRun:
			timeout = l.timerTimeout()
		}
		if timeout != 0 {
			// Only a wait that may block needs producers to kick it; a
			// look (timeout 0) would only collect a needless driver wake.
			l.parked.Store(true)
			if l.runnable(mode) {
				l.parked.Store(false)
				continue
			}
		}
		// turn clears parked as soon as its Wait returns.
		if err := l.turn(timeout); err != nil {
			return err
		}
		if mode == modeIdle && !l.runnable(mode) {
			return nil
		}
	}
}

// runnable reports whether the loop has something to do right now instead
// of waiting: a task to poll, the BlockOn future to poll, or, for Run, a
// Stop to obey or nothing left to keep it alive.
func (l *Local) runnable(mode loopMode) bool {
	return l.runq.len() > 0 || !l.inbox.empty() || (mode == modeMain && l.main.notified.Load()) ||
		(mode == modeRun && (l.stop.Load() || !l.alive()))
}

// runBatch moves (part of) the inbox into the run queue and polls each task
// queued at that moment once; tasks re-queued meanwhile wait for the next
// batch.
func (l *Local) runBatch() {
	// At most a ring's worth from the inbox per batch: goroutines that
	// spawn or wake faster than the loop polls would otherwise keep this
	// drain going forever, starving the BlockOn future and timers while
	// the queue grew without bound.
	for range runqSize {
		h := l.inbox.pop()
		if h == nil {
			break
		}
		if !h.listed {
			l.tasks.add(h)
		}
		l.runq.push(h)
	}
	n := l.runq.len()
	if n == 0 {
		return
	}
	var completed uint64
	for range n {
		h := l.runq.pop()
		l.cx.Reset(future.WakerFor(h), l)
		switch h.run(&l.cx) {
		case runRequeue:
			l.runq.push(h)
		case runDone:
			l.tasks.remove(h)
			completed++
			h.wakeJoin()
		}
		l.spend()
	}
	l.polled.Add(uint64(n))
	if completed > 0 {
		l.completed.Add(completed)
	}
}

// spend counts one poll against the budget, and looks at I/O and timers
// without waiting when it is used up.
func (l *Local) spend() {
	if l.sinceIO++; l.sinceIO >= ioInterval {
		l.sinceIO = 0
		// A driver error here resurfaces at the next blocking turn.
		_ = l.turn(0)
	}
}

// timerTimeout is the driver timeout until the wheel next has work, or -1.
func (l *Local) timerTimeout() time.Duration {
	if tick, ok := l.wheel.nextDeadline(); ok {
		return timeoutUntil(tick)
	}
	return -1
}

// turn waits in the driver (timeout 0: only looks), dispatches the events,
// and fires the timers that are due.
func (l *Local) turn(timeout time.Duration) error {
	if timeout != 0 || l.reactor.active() {
		if timeout != 0 {
			l.waits.Add(1)
		}
		n, err := l.drv.Wait(l.events, timeout)
		// Awake now: the wakes that dispatch makes need no driver wake.
		l.parked.Store(false)
		if err != nil {
			return err
		}
		l.reactor.dispatch(l.events[:n])
	}
	l.fireBuf = l.wheel.fire(l.fireBuf)
	return nil
}

// dropAll drops every task left at shutdown.
func (l *Local) dropAll() {
	var completed uint64
	for {
		for h := l.inbox.pop(); h != nil; h = l.inbox.pop() {
			if !h.listed {
				l.tasks.add(h)
			}
		}
		for l.runq.pop() != nil {
		}
		if l.tasks.head == nil {
			if l.inbox.empty() {
				break
			}
			runtime.Gosched() // a waker is between its swap and its link
			continue
		}
		for h := l.tasks.head; h != nil; h = l.tasks.head {
			l.tasks.remove(h)
			// Drops may wake or abort other tasks; those are listed,
			// and are dropped in turn (a complete task is skipped).
			if h.shutdown(future.ErrClosed) {
				completed++
			}
		}
	}
	l.completed.Add(completed)
}
