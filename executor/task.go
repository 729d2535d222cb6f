package executor

import (
	"runtime/debug"
	"sync/atomic"

	"github.com/libasync/libasync/future"
)

// The bits of a task's state word. Every transition is one compare-and-swap
// on the whole word, so a task is in exactly one of: idle, notified (queued),
// running, running+notified (re-queued when the poll ends), complete.
const (
	// stNotified: the task is in a run queue, or (with stRunning) must be
	// queued again when the current poll ends. Only the wake that sets it
	// queues the task, which is what makes wakes coalesce.
	stNotified uint32 = 1 << iota
	// stRunning: a poll or a drop of the future is in progress; whoever set
	// it owns the future until it clears it.
	stRunning
	// stComplete: the output is stored and the future is gone; final.
	stComplete
	// stCancelled: Abort was called; it takes effect at the next poll
	// boundary unless that poll completes the task.
	stCancelled
	// stJoinWaker: header.joinWaker holds the JoinHandle's waker, and the
	// task side may read it; the handle writes the field only while unset.
	stJoinWaker
)

// scheduler is the executor side of a task: schedule queues a task that a
// wake or an abort has just marked notified (the caller won the CAS that set
// stNotified, so each notification is queued once, from any goroutine).
//
// How an executor runs tasks (Local does this; a multi-threaded one does the
// same from several goroutines): Spawn hands it a header already marked
// notified through Spawner.spawnTask; it sets header.sched, queues the task
// and keeps it in a list of live tasks. A goroutine that takes a task from a
// queue calls run with a Context lending the executor's services, and acts on
// the outcome: runRequeue means it must queue the task again, runDone that
// the task completed and leaves the live list. At shutdown it calls shutdown
// on every live task that is not running; the state word guarantees that a
// future is polled by one goroutine at a time and dropped at most once.
type scheduler interface {
	schedule(h *header)
}

// taskOps is the part of a task that depends on its output type.
type taskOps interface {
	// pollFuture polls the future once; when it is ready (or panicked) it
	// stores the output, releases the future and returns true.
	pollFuture(cx *future.Context) bool
	// dropFuture abandons the future (calling its Drop) and stores err as
	// the output.
	dropFuture(err error)
}

// header is the type-independent part of every task; queues and the
// executor's task list link headers, and the header is the task's Wakeable.
type header struct {
	state atomic.Uint32
	// listed is owned by the executor's loop: the task is in its task list.
	listed bool
	// shard is the Runtime's list the task is in: a worker's index, or
	// the number of workers for the outside list (see Runtime.finish).
	shard uint16
	// qnext links the task in an MPSC inbox; atomic because producers
	// write it while the consumer reads it.
	qnext atomic.Pointer[header]
	// lprev and lnext link the executor's list of live tasks (owner only).
	lprev, lnext *header
	sched        scheduler
	ops          taskOps
	joinWaker    future.Waker
}

// runOutcome says what the executor must do with a task after running it.
type runOutcome uint8

const (
	runIdle    runOutcome = iota // the task waits for a wake
	runRequeue                   // woken during its poll: queue it again
	runDone                      // complete: unlink it, then call wakeJoin
)

// Wake schedules the task for a poll. Safe from any goroutine, any number of
// times; a no-op once the task completed.
func (h *header) Wake() {
	for {
		// A plain load first: the common repeated wake of a queued task
		// costs no read-modify-write.
		s := h.state.Load()
		if s&(stComplete|stNotified) != 0 {
			return
		}
		// The CAS orders everything the waker wrote before Wake before the
		// poll that this wake causes (the poller's CAS reads this word).
		if h.state.CompareAndSwap(s, s|stNotified) {
			if s&stRunning == 0 {
				h.sched.schedule(h)
			}
			return
		}
	}
}

// run polls the task once; the caller took it from a run queue.
func (h *header) run(cx *future.Context) runOutcome {
	var s uint32
	for {
		s = h.state.Load()
		if s&stComplete != 0 {
			return runDone
		}
		// Clearing notified before the poll means that a wake arriving
		// during the poll sets it again, and the task is re-queued once.
		if h.state.CompareAndSwap(s, (s|stRunning)&^stNotified) {
			break
		}
	}
	if s&stCancelled != 0 {
		h.ops.dropFuture(future.ErrAborted)
		h.complete()
		return runDone
	}
	if h.ops.pollFuture(cx) {
		h.complete()
		return runDone
	}
	for {
		s = h.state.Load()
		if s&stCancelled != 0 {
			// Aborted during the poll, which did not complete the task:
			// the abort takes effect now, while this goroutine still
			// holds stRunning and so owns the future.
			h.ops.dropFuture(future.ErrAborted)
			h.complete()
			return runDone
		}
		if h.state.CompareAndSwap(s, s&^stRunning) {
			if s&stNotified != 0 {
				return runRequeue
			}
			return runIdle
		}
	}
}

// complete publishes the output (stored before the call). The caller holds
// stRunning; it then calls wakeJoin, after its own bookkeeping, so that a
// JoinHandle woken by the completion finds the executor's counters updated.
func (h *header) complete() {
	for {
		s := h.state.Load()
		// The CAS releases the output stored before it; the JoinHandle
		// reads it after observing stComplete.
		if h.state.CompareAndSwap(s, (s|stComplete)&^(stRunning|stNotified)) {
			return
		}
	}
}

// wakeJoin wakes the JoinHandle of a task that complete finished; called
// once, by the goroutine that completed it.
func (h *header) wakeJoin() {
	// Once stComplete is set the handle can neither clear stJoinWaker nor
	// write joinWaker any more, so the bit read here is final.
	if h.state.Load()&stJoinWaker != 0 {
		h.joinWaker.Wake()
	}
}

// abort cancels the task: a queued or idle task is dropped at its next turn
// in the run queue, a running one when its poll ends without completing.
func (h *header) abort() {
	for {
		s := h.state.Load()
		if s&(stComplete|stCancelled) != 0 {
			return
		}
		ns := s | stCancelled
		idle := s&(stRunning|stNotified) == 0
		if idle {
			ns |= stNotified
		}
		// Like a wake: whoever sets stNotified queues the task; a task
		// already queued or running sees stCancelled at its next
		// transition, which reads this word.
		if h.state.CompareAndSwap(s, ns) {
			if idle {
				h.sched.schedule(h)
			}
			return
		}
	}
}

// shutdown drops the future of a task that is not running and completes it
// with err; it reports whether it did. Executors call it when they close.
func (h *header) shutdown(err error) bool {
	for {
		s := h.state.Load()
		if s&(stComplete|stRunning) != 0 {
			return false
		}
		// Taking stRunning excludes a concurrent poll, so the future is
		// dropped once, by this goroutine.
		if h.state.CompareAndSwap(s, s|stRunning) {
			h.ops.dropFuture(err)
			h.complete()
			h.wakeJoin()
			return true
		}
	}
}

// task is a spawned future with its output: one allocation per task, its
// JoinHandle included.
type task[T any] struct {
	header
	fut future.Future[T]
	out future.Result[T]
	jh  JoinHandle[T]
}

func (t *task[T]) pollFuture(cx *future.Context) (done bool) {
	defer func() {
		if r := recover(); r != nil {
			f := t.fut
			t.fut = nil
			t.out = future.Fail[T](&future.PanicError{Value: r, Stack: debug.Stack()})
			// A future that panicked is abandoned, so it gets its Drop.
			dropQuietly(f)
			done = true
		}
	}()
	v, ok := t.fut.Poll(cx).Value()
	if ok {
		t.out = future.Ok(v)
		t.fut = nil
	}
	return ok
}

func (t *task[T]) dropFuture(err error) {
	f := t.fut
	t.fut = nil
	t.out = future.Fail[T](err)
	if p := dropQuietly(f); p != nil {
		t.out = future.Fail[T](p)
	}
}

// dropQuietly calls future.Drop(f) and returns a panic of that Drop as a
// PanicError instead of letting it unwind into the executor.
func dropQuietly(f any) (perr *future.PanicError) {
	defer func() {
		if r := recover(); r != nil {
			perr = &future.PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	future.Drop(f)
	return nil
}

// Spawn starts f as a task on s and returns its JoinHandle. The task runs
// whether or not the handle is polled. Spawn returns future.ErrClosed once
// the executor shuts down, and ErrInvalid for a nil Spawner or future.
func Spawn[T any](s Spawner, f future.Future[T]) (*JoinHandle[T], error) {
	if s == nil || f == nil {
		return nil, ErrInvalid
	}
	t := &task[T]{fut: f}
	t.ops = t
	t.jh.t = t
	// A new task starts notified: it is queued exactly once, by spawnTask.
	t.state.Store(stNotified)
	if err := s.spawnTask(&t.header); err != nil {
		return nil, err
	}
	return &t.jh, nil
}

// JoinHandle is the future of a spawned task's outcome: the task's value, or
// future.ErrAborted after Abort, a *future.PanicError if it panicked, or
// future.ErrClosed if its executor shut down first. Poll, Detach and Drop
// belong to whoever awaits the handle (one goroutine at a time, like any
// future); Abort and IsFinished are safe from any goroutine.
type JoinHandle[T any] struct {
	t *task[T]
}

// Poll reports the task's outcome once it finished, and otherwise arranges
// for cx's waker to be woken when it does.
func (j *JoinHandle[T]) Poll(cx *future.Context) future.Poll[future.Result[T]] {
	h := &j.t.header
	s := h.state.Load()
	if s&stComplete != 0 {
		return future.Ready(j.t.out)
	}
	w := cx.Waker()
	if s&stJoinWaker != 0 {
		if h.joinWaker.WillWake(w) {
			return future.Pending[future.Result[T]]()
		}
		// Take the field back before replacing the waker; failing means
		// the task completed meanwhile.
		if !j.clearJoinWaker() {
			return future.Ready(j.t.out)
		}
	}
	h.joinWaker = w
	for {
		s = h.state.Load()
		if s&stComplete != 0 {
			return future.Ready(j.t.out)
		}
		// Setting the bit hands the field to the task side; the CAS
		// publishes the waker written above.
		if h.state.CompareAndSwap(s, s|stJoinWaker) {
			return future.Pending[future.Result[T]]()
		}
	}
}

// clearJoinWaker takes joinWaker back from the task side; false if the task
// completed first (its completion may be reading the waker).
func (j *JoinHandle[T]) clearJoinWaker() bool {
	h := &j.t.header
	for {
		s := h.state.Load()
		if s&stComplete != 0 {
			return false
		}
		// Clearing the bit takes joinWaker back; the completion, which
		// reads the field only if it saw the bit, can no longer do so.
		if h.state.CompareAndSwap(s, s&^stJoinWaker) {
			return true
		}
	}
}

// Abort cancels the task. A task that is queued or waiting is dropped (its
// future's Drop called) at its next turn; a task that is being polled is
// dropped when that poll ends, unless the poll completed it. The handle then
// reports future.ErrAborted. Aborting a finished task does nothing. Safe from
// any goroutine, including from other tasks.
func (j *JoinHandle[T]) Abort() { j.t.abort() }

// IsFinished reports whether the task completed (by value, abort, panic or
// shutdown), so that Poll would be Ready.
func (j *JoinHandle[T]) IsFinished() bool { return j.t.state.Load()&stComplete != 0 }

// Detach withdraws the handle's interest: the task keeps running to
// completion, and wakes no one when it finishes. Polling the handle again
// re-registers interest.
func (j *JoinHandle[T]) Detach() {
	h := &j.t.header
	if h.state.Load()&stJoinWaker != 0 && j.clearJoinWaker() {
		h.joinWaker = future.Waker{}
	}
}

// Drop is Detach: a combinator that abandons a JoinHandle detaches its task,
// as dropping a JoinHandle does in Tokio; it never aborts it.
func (j *JoinHandle[T]) Drop() { j.Detach() }
