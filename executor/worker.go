package executor

import (
	"runtime"
	"sync/atomic"

	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/future"
)

// worker is one of a Runtime's goroutines with its queues. Fields without
// a comment are its own (only its goroutine touches them while it runs).
type worker struct {
	// The pads keep the words that other workers read or write (the
	// ring's positions, the parker, unparks) off the cache lines of this
	// worker's private fields and of the neighbouring worker in memory,
	// which would otherwise bounce between cores on every poll.
	_    cacheLinePad
	rt   *Runtime
	idx  int
	slot *gslot
	_    cacheLinePad
	q    runQueue // its ring (stolen from by others)
	// lifo is the task to run next: the last one woken or spawned by the
	// task being polled. Not stealable.
	lifo       *header
	lifoStreak int
	searching  bool // counted as searching in rt.idle
	polling    bool // inside a task's poll (wakes then go to lifo)
	tick       uint32
	rng        uint32
	cx         future.Context
	events     []driver.Event
	fireBuf    []future.Waker
	stats      workerCounters
	// tasks lists the live tasks spawned on this worker; live counts them
	// for Shutdown's reads (single writer: the worker).
	tasks taskList
	live  ownedCounter
	_     cacheLinePad
	park  parker
	// unparks counts the times a waker woke this worker (any goroutine
	// adds; a counter orders nothing).
	unparks atomic.Uint64
	// finished is a stack (through qnext, free once a task completed) of
	// this worker's tasks that completed on other workers, for it to
	// unlist; finishedN counts them. Pushed with CAS by any worker, taken
	// whole by a swap of the owner: a task is pushed once, so the CAS
	// cannot be fooled by a head that left and came back.
	finished  atomic.Pointer[header]
	finishedN atomic.Int64
	_         cacheLinePad
}

// cacheLinePad is the size of a cache line on common hardware.
type cacheLinePad [64]byte

// workerCounters are a worker's own counters. Each has a single writer, the
// worker, so a load and a store (no locked add) count; readers on other
// goroutines see some recent total, which is all a counter needs.
type workerCounters struct {
	polls, steals, stolen, parks, driverWaits, lifoHits, injected, spawned, completed ownedCounter
}

// ownedCounter is a counter with a single writer.
type ownedCounter struct{ atomic.Uint64 }

func (c *ownedCounter) inc(n uint64) { c.Store(c.Load() + n) }

func (c *workerCounters) snapshot() WorkerStats {
	return WorkerStats{
		Polls:       c.polls.Load(),
		Steals:      c.steals.Load(),
		Stolen:      c.stolen.Load(),
		Parks:       c.parks.Load(),
		DriverWaits: c.driverWaits.Load(),
		LIFOHits:    c.lifoHits.Load(),
		Injected:    c.injected.Load(),
	}
}

// WorkerStats are one Runtime worker's counters (running totals).
type WorkerStats struct {
	Polls       uint64 // task polls
	Steals      uint64 // successful steals from another worker's ring
	Stolen      uint64 // tasks taken by those steals
	Parks       uint64 // times it went to sleep (in the driver or not)
	Unparks     uint64 // times a new task woke it from sleep
	DriverWaits uint64 // blocking waits in the driver
	LIFOHits    uint64 // tasks run from its LIFO slot
	Injected    uint64 // tasks it moved to the injection queue (full ring)
}

// run is the worker's loop.
func (w *worker) run() {
	rt := w.rt
	defer rt.running.Done()
	rt.register(w)
	for !rt.stopping.Load() {
		w.tick++
		if w.tick%ioInterval == 0 {
			w.maintain()
		}
		h := w.next()
		if h == nil {
			h = w.steal()
		}
		if h == nil {
			w.sleep()
			continue
		}
		w.runTask(h)
	}
	if w.slot != nil {
		// Another goroutine may get this descriptor once we exit.
		w.slot.g.Store(gGone)
	}
}

// maintain is the budget's check: a non-blocking look at I/O and timers,
// unless another worker waits in the driver (it sees them first).
func (w *worker) maintain() {
	rt := w.rt
	w.reclaim()
	if rt.driverErr.Load() == nil && rt.driverHeld.CompareAndSwap(false, true) {
		rt.turn(w, 0)
		rt.driverHeld.Store(false)
	}
}

// pushFinished hands w a task of its list that completed elsewhere.
func (w *worker) pushFinished(h *header) {
	for {
		top := w.finished.Load()
		h.qnext.Store(top)
		// The CAS publishes the link stored above to the owner's swap.
		if w.finished.CompareAndSwap(top, h) {
			break
		}
	}
	w.finishedN.Add(1)
}

// reclaim unlists the tasks that other workers finished (owner only).
// Until it runs they stay listed and counted, which only holds their memory
// a little longer (at most until the next budget's look or sleep).
func (w *worker) reclaim() {
	if w.finished.Load() == nil {
		return
	}
	h := w.finished.Swap(nil)
	n := uint64(0)
	for h != nil {
		next := h.qnext.Load()
		h.qnext.Store(nil)
		w.tasks.remove(h)
		n++
		h = next
	}
	if n > 0 {
		// finishedN first: see liveTasks.
		w.finishedN.Add(-int64(n))
		w.live.inc(-n)
	}
}

// next returns the next task of the worker's own queues (and now and then
// of the injection queue).
func (w *worker) next() *header {
	if h := w.lifo; h != nil {
		w.lifo = nil
		if w.lifoStreak < maxLIFOStreak {
			w.lifoStreak++
			w.stats.lifoHits.inc(1)
			return h
		}
		// Bounded: it waits its turn behind the ring.
		w.pushBack(h)
	}
	w.lifoStreak = 0
	if w.tick%ioInterval == 0 {
		// Fairness: the injection queue goes first now and then, or a
		// busy ring would keep outside work waiting forever.
		if h := w.fromInject(); h != nil {
			return h
		}
	}
	// An empty ring goes on to steal, which looks at the other rings
	// before the injection queue: taking from a busy sibling spreads its
	// work without the global lock.
	return w.q.pop()
}

// fromInject takes a share of the injection queue: one task to run, the
// rest into the ring.
func (w *worker) fromInject() *header {
	rt := w.rt
	if rt.inject.empty() {
		return nil
	}
	want := int(rt.inject.n.Load())/len(rt.workers) + 1
	room := runqSize/2 - w.q.len()
	first, n := rt.inject.popBatch(min(want, max(room, 1)))
	if n == 0 {
		return nil
	}
	for h := first.qnext.Load(); h != nil; {
		next := h.qnext.Load()
		// The ring has room for them: it held at most room tasks less.
		w.q.push(h, &rt.inject)
		h = next
	}
	return first
}

// steal looks for work in the other workers' rings and the injection queue,
// as a searching worker.
func (w *worker) steal() *header {
	rt := w.rt
	if !w.searching {
		if !rt.idle.toSearching() {
			// Enough workers search the rings already.
			return w.fromInject()
		}
		w.searching = true
	}
	n := len(rt.workers)
	w.rng ^= w.rng << 13
	w.rng ^= w.rng >> 17
	w.rng ^= w.rng << 5
	start := int(w.rng % uint32(n))
	for i := range n {
		v := rt.workers[(start+i)%n]
		if v == w {
			continue
		}
		if h, k := v.q.stealInto(&w.q); h != nil {
			w.stats.steals.inc(1)
			w.stats.stolen.inc(uint64(k))
			return h
		}
	}
	return w.fromInject()
}

// runTask polls h once and acts on the outcome.
func (w *worker) runTask(h *header) {
	rt := w.rt
	if w.searching {
		w.searching = false
		// The last searcher found work; if more is queued, someone must
		// search for it.
		if rt.idle.fromSearching() && rt.workPending() {
			rt.notify()
		}
	}
	w.cx.Reset(future.WakerFor(h), rt)
	// Counted first, so that whoever the poll wakes sees it in Stats.
	w.stats.polls.inc(1)
	w.polling = true
	switch h.run(&w.cx) {
	case runRequeue:
		// Woken during its own poll (a yield): behind the others.
		w.pushBack(h)
		rt.notify()
	case runDone:
		rt.finish(w, h)
		w.stats.completed.inc(1)
		// Still "polling": the task awaiting this one goes to the LIFO
		// slot and runs next, as if woken by the poll itself.
		h.wakeJoin()
	}
	w.polling = false
}

// pushLocal queues a task woken or spawned on this worker.
func (w *worker) pushLocal(h *header) {
	if w.polling {
		prev := w.lifo
		w.lifo = h
		if prev == nil {
			return
		}
		h = prev
	}
	w.pushBack(h)
	w.rt.notify()
}

// pushBack appends h to the ring (half of a full ring moves to the
// injection queue).
func (w *worker) pushBack(h *header) {
	if n := w.q.push(h, &w.rt.inject); n > 0 {
		w.stats.injected.inc(uint64(n))
	}
}

func (w *worker) hasTasks() bool { return w.lifo != nil || w.q.len() > 0 }

// sleep parks the worker until a new task, an event or a timer wakes it,
// or the Runtime stops. run calls it only after next and steal found
// nothing, and only the worker itself fills its LIFO slot and ring, so both
// are empty here.
func (w *worker) sleep() {
	rt := w.rt
	w.reclaim()
	if rt.idle.toParked(w.idx, w.searching) && rt.workPending() {
		// The last searcher leaves: if work arrived meanwhile, its
		// producer may have relied on a searcher to find it.
		rt.notify()
	}
	w.searching = false
	w.stats.parks.inc(1)
	for !rt.stopping.Load() {
		w.wait()
		if w.hasTasks() {
			// Events or timers woke tasks onto this worker's ring.
			w.searching = !rt.idle.unparkSelf(w.idx)
			if w.q.len() > 1 {
				rt.notify()
			}
			return
		}
		if !rt.idle.isParked(w.idx) {
			w.searching = true // a waker took it off the list
			return
		}
	}
}

// takeDriver takes driverHeld for a wait. A worker that holds it only for a
// budget's look (not waiting, driverOwner -1) lets go in a moment, and
// sleeping beside it would leave I/O and timers without a waiter once it
// goes back to its tasks, so this one tries again a few times.
func (w *worker) takeDriver() bool {
	rt := w.rt
	for range 4 {
		if rt.driverErr.Load() != nil {
			return false
		}
		if rt.driverHeld.CompareAndSwap(false, true) {
			return true
		}
		if rt.driverOwner.Load() >= 0 {
			return false // somebody waits there
		}
		runtime.Gosched()
	}
	return false
}

// wait sleeps once: in the driver if no other worker waits there, else on
// the parker's channel.
func (w *worker) wait() {
	rt, p := w.rt, &w.park
	if p.state.CompareAndSwap(parkNotified, parkEmpty) {
		return
	}
	if w.takeDriver() {
		if p.state.CompareAndSwap(parkEmpty, parkDriver) {
			rt.driverOwner.Store(int32(w.idx))
			timeout := rt.wheel.armSleep()
			w.stats.driverWaits.inc(1)
			rt.turn(w, timeout)
			rt.driverOwner.Store(-1)
		}
		// Either way it runs now: a notification that arrived during the
		// wait (it woke the driver) is consumed with it.
		p.state.Store(parkEmpty)
		rt.driverHeld.Store(false)
		return
	}
	if p.state.CompareAndSwap(parkEmpty, parkCond) {
		<-p.ch
	}
	p.state.Store(parkEmpty)
}
