package executor

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/future"
)

// Runtime is the work-stealing executor: N worker goroutines run tasks in
// parallel (a task is still polled by one goroutine at a time). Work spreads
// by itself: a worker out of tasks takes some from a busy one, and tasks
// spawned or woken from outside the workers are taken by whichever worker is
// free. A task woken by a running task usually runs next on the same worker,
// so that a message passed between two tasks does not wait behind every
// other queued task. A stream of ready tasks cannot starve I/O, timers or
// the work queued from outside: a busy worker attends to them between polls.
// Idle workers sleep until work arrives.
//
// The Runtime lends the same services as Local: SpawnerOf, ReactorOf and the
// timers work unchanged in its tasks and in BlockOn futures. BlockOn polls its
// future on the calling goroutine, which sleeps between wakes; several
// goroutines may BlockOn at once.
type Runtime struct {
	// How it schedules: each worker has a ring of runqSize runnable tasks
	// that only it pushes to and that idle workers steal half of, plus a
	// LIFO slot for the task it just woke or spawned, which runs next (at
	// most maxLIFOStreak times in a row, so that two tasks bouncing a
	// message cannot starve the rest). Spawns and wakes from outside the
	// workers, and the overflow of a full ring, go to the injection queue.
	// A worker out of work steals before it parks; one idle worker at a
	// time waits in the driver (its timeout the next timer) while the
	// others sleep, and one new task wakes at most one of them. A busy
	// worker looks at I/O, timers and the injection queue every ioInterval
	// polls.
	workers []*worker
	inject  injectQueue
	idle    idleSet

	// gtab maps a worker goroutine's currentG to its worker: open
	// addressing, written once per slot by the worker (a CAS of g from 0,
	// then w), cleared to gGone when it exits. Only a worker's own lookup
	// can match its g, so w needs no atomic.
	gtab  []gslot
	gmask uintptr

	// driverHeld is the try-lock of the driver's Wait, of dispatching its
	// events and of advancing the wheel: its holder is the one goroutine
	// that may do those. A CAS takes it; a store releases it. Go's atomics
	// being sequentially consistent, what one holder wrote (the reactor's
	// tick, the events buffer it filled) is seen by the next after its CAS.
	driverHeld atomic.Bool
	// driverOwner is the worker waiting in the driver, or -1: a hint for
	// idleSet.pick (a stale value costs one needless driver wake).
	driverOwner atomic.Int32
	// driverErr is the first error of the driver's Wait; Shutdown returns
	// it. After it, workers no longer wait in the driver. The pointer's
	// store publishes the error value it points to.
	driverErr atomic.Pointer[error]

	// outside lists the live tasks spawned from outside the workers (each
	// worker lists its own without a lock). Its lock also carries the
	// closed flag for those spawns and SpawnBlocking, so that one either
	// sees it or is counted before Shutdown looks.
	outside taskShard

	closed  atomic.Bool   // Shutdown began: spawns fail, BlockOn returns
	closing chan struct{} // closed when Shutdown begins (wakes BlockOn)
	// stopping tells the workers to exit; Shutdown stores it before it
	// unparks them, and a worker reads it after each wake-up, which the
	// parker's swap orders after the store.
	stopping atomic.Bool
	running  sync.WaitGroup
	// core is cold and comes last: ahead of the fields above it moved
	// them across cache lines, and PingPong/Runtime ran 8% slower.
	core

	// Counters of work done outside the workers; each is a running total
	// that orders nothing.
	spawned, injected, dropped, driverWakes atomic.Uint64
}

// gslot is one entry of Runtime.gtab.
type gslot struct {
	g atomic.Uintptr
	w *worker
}

// gGone marks the slot of a worker that exited: no goroutine descriptor has
// that address, and the slot still links the probe chain.
const gGone = 1

// taskShard is a list of live tasks under a lock.
type taskShard struct {
	mu     sync.Mutex
	tasks  taskList
	closed bool
}

// maxLIFOStreak bounds the polls in a row from a worker's LIFO slot, so that
// two tasks waking each other cannot keep the ring's tasks waiting. (The
// Runtime's budget is Local's ioInterval: a worker looks at I/O, timers and
// the injection queue at least every 61 polls.)
const maxLIFOStreak = 3

// WithWorkers sets the Runtime's number of workers (default: GOMAXPROCS).
// Local ignores it.
func WithWorkers(n int) Option { return func(c *config) { c.workers = n } }

// NewRuntime returns a Runtime on the driver chosen by the options, with its
// workers started; Close or Shutdown stops them. It returns ErrInvalid for a
// worker count below 1 or above 65535.
func NewRuntime(opts ...Option) (*Runtime, error) {
	c := config{workers: runtime.GOMAXPROCS(0)}.apply(opts)
	if c.workers < 1 || c.workers > 65535 {
		return nil, ErrInvalid
	}
	n := c.workers
	size := 4
	for size < 2*n {
		size *= 2
	}
	rt := &Runtime{
		workers: make([]*worker, n),
		gtab:    make([]gslot, size),
		gmask:   uintptr(size - 1),
		closing: make(chan struct{}),
	}
	if err := rt.open(c.driver); err != nil {
		return nil, err
	}
	rt.driverOwner.Store(-1)
	rt.wheel.kick = rt.wakeDriver
	rt.idle.init(n)
	for i := range rt.workers {
		rt.workers[i] = &worker{
			rt:     rt,
			idx:    i,
			events: make([]driver.Event, 256),
			rng:    uint32(i)*0x9e3779b9 + 1,
			park:   parker{ch: make(chan struct{}, 1)},
		}
	}
	rt.running.Add(n)
	for _, w := range rt.workers {
		go w.run()
	}
	return rt, nil
}

// Workers returns the number of workers.
func (rt *Runtime) Workers() int { return len(rt.workers) }

func hashG(g uintptr) uintptr { return uintptr(uint64(g) * 0x9e3779b97f4a7c15 >> 40) }

// current returns the worker that runs on the calling goroutine, or nil.
func (rt *Runtime) current() *worker {
	g := currentG()
	for i := hashG(g) & rt.gmask; ; i = (i + 1) & rt.gmask {
		s := &rt.gtab[i]
		switch s.g.Load() {
		case g:
			return s.w
		case 0:
			return nil
		}
	}
}

// register enters the calling goroutine (w's) in gtab.
func (rt *Runtime) register(w *worker) {
	if !gWorks {
		return
	}
	g := currentG()
	for i := hashG(g) & rt.gmask; ; i = (i + 1) & rt.gmask {
		s := &rt.gtab[i]
		if s.g.CompareAndSwap(0, g) {
			// Only this goroutine's lookups can match g, and they
			// follow this store in its own program order.
			s.w = w
			w.slot = s
			return
		}
	}
}

// wakeDriver makes the worker waiting in the driver (if any) return.
func (rt *Runtime) wakeDriver() {
	rt.driverWakes.Add(1)
	// An error means the driver is closed, and then nobody waits in it.
	_ = rt.drv.Wake()
}

// turn waits in the driver (timeout 0: only looks), dispatches the events
// and fires due timers; the caller holds driverHeld. Wakes it causes land on
// w's own ring.
func (rt *Runtime) turn(w *worker, timeout time.Duration) {
	if timeout != 0 || rt.reactor.active() {
		n, err := rt.drv.Wait(w.events, timeout)
		if err != nil {
			rt.driverErr.CompareAndSwap(nil, &err)
			return
		}
		rt.reactor.dispatch(w.events[:n])
	}
	w.fireBuf = rt.wheel.fire(w.fireBuf)
}

// notify wakes a parked worker if a new task needs one (see idleSet).
func (rt *Runtime) notify() {
	i, ok := rt.idle.pick(int(rt.driverOwner.Load()))
	if !ok {
		return
	}
	w := rt.workers[i]
	w.unparks.Add(1)
	w.park.unpark(rt.wakeDriver)
}

// workPending reports whether any queue holds a task a searcher could take.
func (rt *Runtime) workPending() bool {
	if !rt.inject.empty() {
		return true
	}
	for _, w := range rt.workers {
		if w.q.len() > 0 {
			return true
		}
	}
	return false
}

func (rt *Runtime) schedule(h *header) { rt.enqueue(h, rt.current()) }

// enqueue queues a notified task: on w's own queues when the caller is
// worker w, else on the injection queue.
func (rt *Runtime) enqueue(h *header, w *worker) {
	if w != nil {
		w.pushLocal(h)
		return
	}
	rt.inject.push(h)
	rt.injected.Add(1)
	rt.notify()
}

func (rt *Runtime) spawnTask(h *header) error {
	h.sched = rt
	if w := rt.current(); w != nil {
		// A spawn that passes this check while Shutdown begins is listed
		// on the worker, where Shutdown finds it once the workers stop.
		if rt.closed.Load() {
			return future.ErrClosed
		}
		h.shard = uint16(w.idx)
		w.tasks.add(h)
		w.live.inc(1)
		w.stats.spawned.inc(1)
		w.pushLocal(h)
		return nil
	}
	h.shard = uint16(len(rt.workers))
	l := &rt.outside
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return future.ErrClosed
	}
	l.tasks.add(h)
	l.mu.Unlock()
	rt.spawned.Add(1)
	rt.enqueue(h, nil)
	return nil
}

func (rt *Runtime) goBlocking(fn func()) error {
	l := &rt.outside
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return future.ErrClosed
	}
	// Counted under the lock that Shutdown takes to set closed, so its
	// Wait sees every function started.
	rt.goBlockingCounted(fn)
	l.mu.Unlock()
	return nil
}

// finish unlists a task that completed on worker w.
func (rt *Runtime) finish(w *worker, h *header) {
	switch i := int(h.shard); {
	case i == w.idx:
		w.tasks.remove(h)
		w.live.inc(^uint64(0))
	case i == len(rt.workers):
		rt.outside.mu.Lock()
		rt.outside.tasks.remove(h)
		rt.outside.mu.Unlock()
	default:
		rt.workers[i].pushFinished(h)
	}
}

// liveTasks counts the tasks not finished yet (a snapshot that may count a
// task finishing meanwhile, but never misses one that was live before the
// call and still is).
func (rt *Runtime) liveTasks() int {
	n := 0
	for _, w := range rt.workers {
		// live before finishedN: reclaim lowers finishedN first, so a
		// reclaimed task is never subtracted twice.
		n += int(w.live.Load()) - int(w.finishedN.Load())
	}
	rt.outside.mu.Lock()
	n += rt.outside.tasks.n
	rt.outside.mu.Unlock()
	return n
}

// blockWaker wakes a goroutine in Runtime.blockOn.
type blockWaker struct {
	// notified is cleared before each poll, so a wake during the poll
	// sets it again and sends one token: one more poll.
	notified atomic.Bool
	ch       chan struct{}
}

// Wake makes the BlockOn poll its future again.
func (b *blockWaker) Wake() {
	if b.notified.Load() || b.notified.Swap(true) {
		return
	}
	select {
	case b.ch <- struct{}{}:
	default:
	}
}

func (rt *Runtime) blockOn(poll func(cx *future.Context) bool, drop func()) error {
	b := &blockWaker{ch: make(chan struct{}, 1)}
	var cx future.Context
	cx.Reset(future.WakerFor(b), rt)
	for {
		if rt.closed.Load() {
			drop()
			return future.ErrClosed
		}
		b.notified.Store(false)
		if poll(&cx) {
			return nil
		}
		select {
		case <-b.ch:
		case <-rt.closing:
		}
	}
}

// Shutdown stops accepting work (Spawn and SpawnBlocking then return
// future.ErrClosed) and makes every BlockOn return future.ErrClosed; the
// workers keep running the remaining tasks until they all finished or
// deadline passed, then stop, and every unfinished future is dropped exactly
// once (its JoinHandle reports future.ErrClosed). It returns after the
// workers and every SpawnBlocking function in flight returned and the driver
// is closed, with the first error the driver reported, if any. Later calls
// wait for the first to finish and return nil. It must not be called from a
// task of rt.
func (rt *Runtime) Shutdown(deadline time.Time) error {
	if !rt.shutdown.begin() {
		return nil
	}
	rt.closed.Store(true)
	close(rt.closing)
	rt.outside.mu.Lock()
	rt.outside.closed = true
	rt.outside.mu.Unlock()
	// The grace period: the workers run on while this goroutine looks
	// every millisecond whether tasks are left (finishing tasks do not
	// signal, which keeps a lock and a shared counter off their path).
	if time.Until(deadline) > 0 {
		tick := time.NewTicker(time.Millisecond)
		for rt.liveTasks() > 0 && time.Now().Before(deadline) {
			<-tick.C
		}
		tick.Stop()
	}
	rt.stopping.Store(true)
	for _, w := range rt.workers {
		w.park.unpark(rt.wakeDriver)
	}
	rt.running.Wait()
	rt.dropAll()
	err := rt.closeServices()
	if p := rt.driverErr.Load(); p != nil {
		err = *p
	}
	rt.shutdown.end()
	return err
}

// Close is Shutdown with no grace period.
func (rt *Runtime) Close() error { return rt.Shutdown(time.Time{}) }

// dropAll drops every task left once the workers stopped (their queues and
// lists are this goroutine's now: running.Wait ordered their last writes
// before).
func (rt *Runtime) dropAll() {
	for _, w := range rt.workers {
		w.reclaim()
	}
	lists := []*taskList{&rt.outside.tasks}
	for _, w := range rt.workers {
		lists = append(lists, &w.tasks)
	}
	for {
		for {
			if _, n := rt.inject.popBatch(1 << 30); n == 0 {
				break
			}
		}
		for _, w := range rt.workers {
			w.lifo = nil
			for w.q.pop() != nil {
			}
		}
		var h *header
		for _, l := range lists {
			if h = l.head; h != nil {
				l.remove(h)
				break
			}
		}
		if h == nil {
			return
		}
		// A drop may wake or abort other tasks: they are still listed
		// and are dropped in turn (a complete task is skipped).
		if h.shutdown(future.ErrClosed) {
			rt.dropped.Add(1)
		}
	}
}

// Stats returns the counters, summed over the workers, with each worker's
// own in Workers; safe from any goroutine.
func (rt *Runtime) Stats() Stats {
	st := Stats{
		TasksSpawned:   rt.spawned.Load(),
		TasksCompleted: rt.dropped.Load(),
		DriverWakes:    rt.driverWakes.Load(),
		TasksInjected:  rt.injected.Load(),
		Workers:        make([]WorkerStats, len(rt.workers)),
	}
	rt.timerStats(&st)
	for i, w := range rt.workers {
		ws := w.stats.snapshot()
		ws.Unparks = w.unparks.Load()
		st.Workers[i] = ws
		st.TasksSpawned += w.stats.spawned.Load()
		st.TasksCompleted += w.stats.completed.Load()
		st.TasksPolled += ws.Polls
		st.TasksStolen += ws.Stolen
		st.TasksInjected += ws.Injected
		st.DriverWaits += ws.DriverWaits
		st.Parks += ws.Parks
		st.Unparks += ws.Unparks
		st.LIFOHits += ws.LIFOHits
	}
	return st
}
