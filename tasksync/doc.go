// Package tasksync provides synchronisation for tasks: primitives whose
// waiting operations are futures, so that a task that waits holds no
// goroutine and blocks no executor worker. They need only wakers, so they
// work on any executor (package executor's Local and Runtime,
// future.BlockOn), and one primitive may be shared by tasks of different
// executors and by plain goroutines (which wait through future.BlockOn, or
// use the methods that do not wait). The name keeps clear of package sync,
// so that code can import both.
//
//   - Semaphore: weighted, FIFO-fair counting semaphore, with TryAcquire and
//     Permits given back by Release.
//   - Mutex and RWMutex: FIFO-fair locks that may be held across an await;
//     a lock yields a Guard, and the Guard's Unlock releases it.
//   - Barrier: n tasks wait until all n have arrived.
//   - NewWatch: a single latest value, many receivers told of each change.
//   - NewBroadcast: every value to every receiver, through a bounded ring;
//     a receiver that falls behind is told how many values it missed.
//   - CancellationToken: a tree of cancellation signals with a Cancelled
//     future, bridged to context.Context both ways.
//
// # Waiting and cancel safety
//
// A waiting future is a small struct that queues itself at its first poll,
// through a node inside it (future.WaitList), so waiting allocates nothing
// beyond the future. Acquire, Lock, RLock, Wait and Cancelled return a new
// future (one allocation); the first four have a Reset method, so that a
// state machine can make any number of requests with one. The receive
// futures of watch and broadcast are their receivers, and cost nothing.
//
// Dropping a future before it is Ready (future.Drop, which every combinator
// and executor calls on what it abandons, as Select does with its losers)
// is how a wait is cancelled. Each waiting operation states its cancel
// safety, as Tokio's documentation does: cancel safe means that dropping
// the future and starting the operation again (a Select in a loop) loses
// nothing. A dropped Semaphore, Mutex or RWMutex request loses only its
// place in the queue: it passes on a permit or lock already handed to it,
// so nothing leaks and the next waiter is woken in its stead. Barrier.Wait
// is the exception; its documentation says when a dropped wait loses its
// pass.
//
// # Errors
//
// Failures are error values, never panics: future.ErrClosed for a closed
// Semaphore, watch or broadcast; ErrInvalid for an argument out of range;
// ErrNoPermits for a TryAcquire that would have to wait; ErrNotHeld for
// giving back more than is held; *LaggedError for a broadcast receiver that
// fell behind; future.ErrEmpty for a TryRecv with nothing to receive.
package tasksync

import "errors"

// The errors of this package; compare with errors.Is. A closed primitive
// reports future.ErrClosed, the error every part of libasync shares.
var (
	// ErrInvalid is returned for an argument out of range: a permit count
	// below 1 or above MaxPermits, a capacity or party count below 1.
	ErrInvalid = errors.New("tasksync: invalid argument")
	// ErrNoPermits is returned by TryAcquire when the permits are not free
	// at once, or other requests wait before it.
	ErrNoPermits = errors.New("tasksync: no permits available")
	// ErrNotHeld is returned when more permits are given back than the
	// semaphore has in use, or a lock is unlocked that nobody holds: a
	// Permit or Guard was copied and released through both copies.
	ErrNotHeld = errors.New("tasksync: released more than is held")
)
