// Package executor runs futures: tasks and their JoinHandles, the
// single-threaded executor Local and the work-stealing Runtime, the reactor
// that turns a driver's readiness events into wakes, and the timer wheel
// behind Sleep, Timeout and Interval.
//
// # Tasks
//
// Spawn turns a future into a task: a single allocation that holds the
// future, its output and the task's atomic state. The task is its own waker,
// so waking costs no allocation; wakes coalesce (many wakes before the next
// poll cause one poll), a wake during a poll re-schedules the task exactly
// once after that poll, and a wake after completion does nothing. A task's
// panic is caught and delivered as a *future.PanicError to its JoinHandle.
//
// # Services
//
// While an executor polls a future it lends its services through the
// future.Context: a task spawns other tasks through SpawnerOf(cx), timers
// (Sleep, Timeout, Interval) find the executor's wheel there, and sockets find
// the Reactor through ReactorOf(cx). A runtime future polled by something that
// lends no services (future.BlockOn, a bare Context) reports
// future.ErrNoRuntime.
//
// # Memory
//
// A pending task costs its task struct plus its future's own fields. A future
// written as an explicit state machine stays small (tens to a few hundred
// bytes); a future.Async coroutine holds a goroutine stack of kilobytes, so
// prefer state machines where tasks are counted in the hundreds of thousands.
//
// # Descriptors
//
// Importing the package opens the Go runtime's own poller (two descriptors
// on Linux, held for the life of the process), which the Go runtime would
// otherwise open at its first timer and abort the process if that came at the
// descriptor limit. Running out of descriptors later is an error of the call
// that met it (an error wrapping syscall.EMFILE from NewRuntime, NewLocal, a
// socket's Listen, Connect or Accept), and the program goes on.
package executor

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/future"
)

// The errors of this package; compare with errors.Is. The shared errors
// (future.ErrClosed, future.ErrAborted, future.ErrNoRuntime) come from
// package future.
var (
	// ErrTimeout is the outcome of a Timeout whose duration passed first. It
	// wraps os.ErrDeadlineExceeded, so errors.Is(err, os.ErrDeadlineExceeded)
	// holds for it as it does for Go's own I/O deadlines.
	ErrTimeout = fmt.Errorf("libasync: timed out: %w", os.ErrDeadlineExceeded)
	// ErrBusy is reported to a second task waiting for the same direction of
	// a Registration while the first one still waits.
	ErrBusy = errors.New("libasync: another task is already waiting on this direction")
	// ErrWrongRuntime is reported when a Registration is polled by an
	// executor other than the one that registered it.
	ErrWrongRuntime = errors.New("libasync: resource belongs to another runtime")
	// ErrInvalid is reported for a bad argument (a non-positive Interval
	// period, an empty interest).
	ErrInvalid = errors.New("libasync: invalid argument")
)

// Spawner accepts new tasks. It is implemented by this package's executors
// and by the services an executor lends through a Context (see SpawnerOf);
// the methods are unexported because a task must belong to an executor that
// knows how to run it.
type Spawner interface {
	// spawnTask takes ownership of a new task and queues it, or returns
	// future.ErrClosed once the executor stopped accepting work.
	spawnTask(h *header) error
	// goBlocking runs fn on a goroutine the executor waits for when it
	// shuts down, or returns future.ErrClosed.
	goBlocking(fn func()) error
}

// Executor is what every executor of this package offers: spawning (through
// Spawn), running a future to completion on the caller's goroutine (through
// BlockOn), shutting down, and counters.
type Executor interface {
	Spawner
	// Shutdown stops accepting work, lets tasks run until deadline, then
	// drops the rest; it returns once everything stopped.
	Shutdown(deadline time.Time) error
	// Close is Shutdown without a grace period.
	Close() error
	// Stats returns the executor's counters.
	Stats() Stats
	// blockOn runs the executor until poll reports completion, or until
	// the executor closes (then it calls drop and returns
	// future.ErrClosed).
	blockOn(poll func(cx *future.Context) bool, drop func()) error
}

// services is what an executor lends through future.Context.Services while
// it polls: its spawner, the timer wheel of the polling goroutine and its
// reactor.
type services interface {
	Spawner
	timerWheel() *wheel
	ioReactor() *Reactor
}

// servicesOf returns the services that cx lends, or future.ErrNoRuntime.
func servicesOf(cx *future.Context) (services, error) {
	if cx != nil {
		if s, ok := cx.Services().(services); ok {
			return s, nil
		}
	}
	return nil, future.ErrNoRuntime
}

// SpawnerOf returns the Spawner of the executor that polls cx, so that a
// task can spawn others without a runtime argument. Outside an executor of
// this package it returns future.ErrNoRuntime.
func SpawnerOf(cx *future.Context) (Spawner, error) {
	s, err := servicesOf(cx)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// BlockOn runs e on the calling goroutine until f is ready, and returns f's
// value. Other tasks of e run meanwhile. If e shuts down first, f is dropped
// and BlockOn returns future.ErrClosed. A panic in f is not caught: it
// unwinds into the caller, as it would from a plain call. BlockOn must not be
// called from a task of e (it would wait for itself); on a Local, BlockOn
// calls from several goroutines take turns.
func BlockOn[T any](e Executor, f future.Future[T]) (T, error) {
	var out T
	if e == nil || f == nil {
		return out, ErrInvalid
	}
	poll := func(cx *future.Context) bool {
		v, ok := f.Poll(cx).Value()
		if ok {
			out = v
		}
		return ok
	}
	err := e.blockOn(poll, func() { future.Drop(f) })
	return out, err
}

// Option configures an executor.
type Option func(*config)

type config struct {
	driver  string
	workers int
}

// apply returns c with opts applied over it (c carries the defaults).
func (c config) apply(opts []Option) config {
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

// core is what Local and Runtime share: the driver with its reactor, the
// timer wheel, the SpawnBlocking goroutines, and the once of Shutdown.
type core struct {
	drv      driver.Driver
	reactor  *Reactor
	wheel    *wheel
	blocking sync.WaitGroup
	shutdown shutdownOnce
}

// open opens the driver registered under name (see WithDriver), with a
// reactor and a timer wheel.
func (c *core) open(name string) error {
	drv, err := driver.Open(name)
	if err != nil {
		return err
	}
	c.drv, c.reactor, c.wheel = drv, newReactor(drv), newWheel()
	return nil
}

// DriverName returns the name of the driver the executor runs on.
func (c *core) DriverName() string { return c.drv.Name() }

func (c *core) timerWheel() *wheel  { return c.wheel }
func (c *core) ioReactor() *Reactor { return c.reactor }

// goBlockingCounted runs fn on a goroutine of its own that closeServices
// waits for. The caller has made sure that Shutdown, which stops accepting
// work before closeServices, sees this count.
func (c *core) goBlockingCounted(fn func()) {
	c.blocking.Add(1)
	go func() {
		defer c.blocking.Done()
		fn()
	}()
}

// closeServices ends an executor's Shutdown once no task is left: it waits
// for every SpawnBlocking function in flight, closes the reactor (waking
// its waiters with future.ErrClosed), then the driver, whose error it
// returns.
func (c *core) closeServices() error {
	c.blocking.Wait()
	c.reactor.close()
	return c.drv.Close()
}

// timerStats fills st's timer counters from the wheel.
func (c *core) timerStats(st *Stats) {
	st.TimersInserted, st.TimersFired, st.TimersCascaded = c.wheel.counters()
}

// WithDriver makes the executor use the readiness driver registered under
// name (see driver.Names); the empty name means driver.Default().
func WithDriver(name string) Option { return func(c *config) { c.driver = name } }

// Stats are an executor's counters since it was created. Each is a running
// total; take differences between two calls to measure an interval.
type Stats struct {
	TasksSpawned   uint64 // tasks accepted by Spawn
	TasksPolled    uint64 // polls of tasks (a task polled twice counts twice)
	TasksCompleted uint64 // tasks that finished: ready, aborted, panicked or dropped at shutdown
	DriverWaits    uint64 // calls of the driver's Wait that could block
	DriverWakes    uint64 // calls of the driver's Wake (a wake of a waiting executor)
	TimersInserted uint64 // timer entries put into the wheel
	TimersFired    uint64 // timer entries that expired
	TimersCascaded uint64 // entries moved from a coarser wheel level to a finer one

	// The work-stealing Runtime's scheduling counters (zero on Local),
	// summed over its workers; Workers has each worker's own.
	TasksStolen   uint64 // tasks moved from one worker's ring to another's by stealing
	TasksInjected uint64 // tasks put on the injection queue: from outside the workers, or a full ring's overflow
	Parks         uint64 // times a worker went to sleep, in the driver or not
	Unparks       uint64 // times a new task woke a sleeping worker
	LIFOHits      uint64 // tasks run from a worker's LIFO slot
	Workers       []WorkerStats
}

// shutdownOnce lets the first Shutdown of an executor do the work while
// later calls wait for it to finish. Its zero value is ready to use.
type shutdownOnce struct {
	once sync.Once
	done chan struct{} // closed by end
}

// begin reports whether the caller is the first; any other caller waits
// until the first called end, and gets false.
func (o *shutdownOnce) begin() bool {
	first := false
	o.once.Do(func() {
		first = true
		o.done = make(chan struct{})
	})
	if !first {
		<-o.done
	}
	return first
}

// end lets the later callers of begin return.
func (o *shutdownOnce) end() { close(o.done) }
