package executor

import (
	"errors"
	"time"

	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/future"
)

// RunMode says how long Local.Run runs the loop (libuv's uv_run modes).
type RunMode uint8

const (
	// RunDefault runs until Stop is called or nothing keeps the loop
	// alive: no task is left and no KeepAlive count is held.
	RunDefault RunMode = iota
	// RunOnce looks at I/O and timers, first waiting for one of them or
	// a wake if no task is runnable and something keeps the loop alive,
	// then polls once each task runnable at that moment, and returns.
	RunOnce
	// RunNoWait is RunOnce without the wait: it never blocks.
	RunNoWait
)

// ErrRunning is what Run and BackendTimeout report while another goroutine
// runs the loop, and what Run reports when called from one of the loop's
// own tasks.
var ErrRunning = errors.New("libasync: the loop is running on another goroutine, or Run was called from one of its tasks")

// Run runs the loop on the calling goroutine as mode says, polling tasks,
// I/O and timers there, so that a host program (an event loop of its own,
// a C thread) drives the executor without any goroutine of the executor's
// own: nothing runs between two Runs, except SpawnBlocking functions. It
// reports whether something still keeps the loop alive (tasks, or a
// KeepAlive count). A Stop made before Run makes it return at once.
//
// It returns ErrRunning when another goroutine runs the loop (Run, BlockOn,
// RunUntilIdle) or when called from a task of l, and future.ErrClosed once
// Shutdown began (a Shutdown on another goroutine makes a Run in progress
// return it).
func (l *Local) Run(mode RunMode) (alive bool, err error) {
	if mode > RunNoWait {
		return false, ErrInvalid
	}
	if !l.runMu.TryLock() {
		return true, ErrRunning
	}
	defer l.runMu.Unlock()
	if gWorks {
		l.owner.Store(currentG())
	}
	// Between Runs, every wake from another goroutine must reach the
	// driver, which a host may be waiting on through BackendFD.
	defer l.parked.Store(true)
	if l.closedForWork() {
		return false, future.ErrClosed
	}
	if !l.stop.Swap(false) {
		if mode == RunDefault {
			err = l.runLoop(nil, modeRun, 0)
		} else {
			err = l.runOnce(mode == RunOnce)
		}
		// A Stop during this Run is this Run's.
		l.stop.Store(false)
	}
	if err == nil && l.closedForWork() {
		// A Shutdown on another goroutine began during this Run.
		err = future.ErrClosed
	}
	return l.alive(), err
}

// runOnce is RunOnce (wait true) and RunNoWait: a look at I/O and timers
// (a wait, for RunOnce with nothing runnable), then one batch, in which
// each task runnable at that moment is polled once.
func (l *Local) runOnce(wait bool) error {
	var timeout time.Duration
	if wait && !l.runnable(modeIdle) && l.alive() && !l.stop.Load() {
		timeout = l.timerTimeout()
		if timeout != 0 {
			l.parked.Store(true)
			// The stores before a producer's kick are seen here, or the
			// producer sees parked (see the field's comment).
			if l.runnable(modeIdle) || l.stop.Load() {
				l.parked.Store(false)
				timeout = 0
			}
		}
	}
	if err := l.turn(timeout); err != nil {
		return err
	}
	l.runBatch()
	return nil
}

// alive reports whether something keeps the loop alive: a task not ended,
// or outside work counted by KeepAlive (loop owner only).
func (l *Local) alive() bool {
	return l.tasks.n > 0 || !l.inbox.empty() || l.holds.Load() > 0
}

// isOwner reports whether the caller is the goroutine that last entered
// Run.
func (l *Local) isOwner() bool {
	o := l.owner.Load()
	return o != 0 && o == currentG()
}

// Stop makes the Run in progress return once the poll in progress
// returned, or, when none is in progress, the next Run return at once. It
// is safe from any goroutine and from a task; Stops coalesce until a Run
// returns.
func (l *Local) Stop() {
	l.stop.Store(true)
	l.kick()
}

// Interrupt makes a Run that waits for I/O or timers stop waiting, as a
// spurious event would: a RunOnce returns, a RunDefault goes on. It is safe
// from any goroutine.
func (l *Local) Interrupt() {
	if l.parked.Load() && l.parked.CompareAndSwap(true, false) {
		l.wakes.Add(1)
		// An error means the driver is closed, and then no loop waits.
		_ = l.drv.Wake()
	}
}

// KeepAlive adds n (negative to release) to the count of outside work that
// keeps RunDefault running as a live task does: work the loop drives but
// that is no task of it, such as a future polled from outside the loop
// with a waker of its own. Every count added must be released; the release
// that brings the count to zero lets a RunDefault waiting on it return.
// Safe from any goroutine.
func (l *Local) KeepAlive(n int) {
	if l.holds.Add(int64(n)) == 0 && n < 0 {
		l.kick()
	}
}

// BackendFD returns a descriptor that turns readable when a RunNoWait would
// find I/O or a wake from another goroutine to handle, for a host that
// embeds the loop in an event loop of its own (libuv's uv_backend_fd): the
// host waits for it to turn readable, with BackendTimeout's timeout, then
// calls Run(RunNoWait). The descriptor stays the executor's: never read or
// close it. Drivers that have no such descriptor (poll, iocp) give an error
// wrapping driver.ErrNotSupported.
func (l *Local) BackendFD() (driver.FD, error) {
	p, ok := l.drv.(driver.Pollable)
	if !ok {
		return 0, driver.ErrNotSupported
	}
	return p.PollFD(), nil
}

// BackendTimeout is how long a host that embeds the loop may wait on
// BackendFD before it must call Run (libuv's uv_backend_timeout): 0 when a
// task is runnable or a Stop is pending, the time until the timers next
// need the loop (never after the next one is due; a far timer may need it
// earlier, to move it to a finer level of the wheel), or -1 when there is
// no timer. Ask for it right before each wait: a task
// spawned or woken by the owner of the loop after the call does not make
// BackendFD readable. It returns ErrRunning while another goroutine runs the
// loop.
func (l *Local) BackendTimeout() (time.Duration, error) {
	if !l.runMu.TryLock() {
		return 0, ErrRunning
	}
	defer l.runMu.Unlock()
	if l.runnable(modeIdle) || l.stop.Load() {
		return 0, nil
	}
	return l.timerTimeout(), nil
}
