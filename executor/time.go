package executor

import (
	"time"

	"github.com/libasync/libasync/future"
)

// SleepFuture is a future that becomes ready once its deadline has passed. Its
// timer entry lives inside it: the first poll files it in the timer wheel of
// the executor that polls, and Drop (or completion) removes it. A Sleep never
// completes before its deadline; it may complete up to about a millisecond
// plus scheduling delay after it. Polled outside an executor of this package
// it reports future.ErrNoRuntime.
type SleepFuture struct {
	deadline int64 // nanoseconds since epoch
	entry    timerEntry
}

// Sleep returns a future that is ready once d has passed (at once, for
// d <= 0). Huge durations saturate at the farthest representable instant.
func Sleep(d time.Duration) *SleepFuture {
	return newSleepAt(deadlineAfter(d), d <= 0)
}

// SleepUntil returns a future whose deadline is t (ready at once if t has
// passed).
func SleepUntil(t time.Time) *SleepFuture {
	// time.Until is read before deadlineAfter's clock read, so the
	// deadline can only come out late, never early.
	u := time.Until(t)
	return newSleepAt(deadlineAfter(u), u <= 0)
}

// newSleepAt returns a Sleep with deadline ns; due says the deadline has
// passed already, so that the Sleep never touches a wheel.
func newSleepAt(ns int64, due bool) *SleepFuture {
	s := &SleepFuture{deadline: ns}
	s.entry.init(due)
	return s
}

// Deadline returns the instant the future waits for.
func (s *SleepFuture) Deadline() time.Time { return epoch.Add(time.Duration(s.deadline)) }

// Poll reports Ready once the deadline has passed.
func (s *SleepFuture) Poll(cx *future.Context) future.Poll[future.Result[struct{}]] {
	switch err := pollTimer(cx, &s.entry, s.deadline); err {
	case nil:
		return future.Ready(future.Ok(struct{}{}))
	case errPending:
		return future.Pending[future.Result[struct{}]]()
	default:
		return future.Ready(future.Fail[struct{}](err))
	}
}

// Drop removes the timer entry from the wheel.
func (s *SleepFuture) Drop() { dropTimer(&s.entry) }

// errPending is pollTimer's answer for "not yet"; it never leaves the package.
var errPending = &pendingError{}

type pendingError struct{}

func (*pendingError) Error() string { return "pending" }

// pollTimer is the poll of every timer future: nil when the deadline passed,
// errPending after filing e (with cx's waker) in the polling executor's wheel,
// or the error that prevents waiting.
func pollTimer(cx *future.Context, e *timerEntry, deadline int64) error {
	// fired is set under the wheel lock after the entry left the wheel, so
	// observing it means the wheel is done with the entry.
	if e.fired.Load() {
		return nil
	}
	w := e.w
	if w == nil {
		svc, err := servicesOf(cx)
		if err != nil {
			return err
		}
		w = svc.timerWheel()
		e.when = ceilTick(deadline)
		e.waker = cx.Waker()
		if !w.insert(e) {
			e.waker = future.Waker{}
			e.fired.Store(true)
			return nil
		}
		e.w = w
		return errPending
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if e.fired.Load() {
		return nil
	}
	if !e.waker.WillWake(cx.Waker()) {
		e.waker = cx.Waker()
	}
	return errPending
}

// dropTimer removes e from its wheel, if it is in one.
func dropTimer(e *timerEntry) {
	if w := e.w; w != nil {
		w.mu.Lock()
		w.removeLocked(e)
		e.waker = future.Waker{}
		w.mu.Unlock()
	}
}

// Timeout runs f with a time limit: it is ready with f's value if f is ready
// first, or with ErrTimeout (which wraps os.ErrDeadlineExceeded) once d has
// passed, in which case f is dropped. f is polled before the clock is
// checked, so a future that is ready at once always wins.
func Timeout[T any](d time.Duration, f future.Future[T]) *TimeoutFuture[T] {
	t := &TimeoutFuture[T]{f: f, deadline: deadlineAfter(d)}
	t.entry.init(d <= 0)
	return t
}

// TimeoutFuture is the future Timeout returns.
type TimeoutFuture[T any] struct {
	f        future.Future[T]
	deadline int64
	entry    timerEntry
}

// Poll polls the inner future, then the timer.
func (t *TimeoutFuture[T]) Poll(cx *future.Context) future.Poll[future.Result[T]] {
	if t.f == nil {
		return future.Ready(future.Fail[T](ErrInvalid))
	}
	if v, ok := t.f.Poll(cx).Value(); ok {
		t.f = nil
		dropTimer(&t.entry)
		return future.Ready(future.Ok(v))
	}
	switch err := pollTimer(cx, &t.entry, t.deadline); err {
	case errPending:
		return future.Pending[future.Result[T]]()
	case nil:
		err = ErrTimeout
		fallthrough
	default:
		f := t.f
		t.f = nil
		future.Drop(f)
		return future.Ready(future.Fail[T](err))
	}
}

// Drop drops the inner future and removes the timer.
func (t *TimeoutFuture[T]) Drop() {
	f := t.f
	t.f = nil
	future.Drop(f)
	dropTimer(&t.entry)
}

// Interval yields ticks every period: the first one period after
// NewInterval, then on the same grid (start + k*period). Missed ticks are
// skipped: if a tick is taken late by one period or more, it still completes
// at once, and the next one is the next grid point after now, so a slow
// consumer gets no burst of catch-up ticks. An Interval is used by one task
// at a time; it holds one timer entry, removed by Drop.
type Interval struct {
	period int64
	next   int64 // deadline of the next tick, ns since epoch
	entry  timerEntry
}

// NewInterval returns an Interval with the given period, or ErrInvalid for a
// period that is not positive.
func NewInterval(period time.Duration) (*Interval, error) {
	if period <= 0 {
		return nil, ErrInvalid
	}
	iv := &Interval{period: int64(period), next: deadlineAfter(period)}
	iv.entry.init(false)
	return iv, nil
}

// PollTick reports Ready with the scheduled time of the tick once it is due;
// the following call waits for the next tick. It is the allocation-free form
// of Tick for futures written as state machines.
func (iv *Interval) PollTick(cx *future.Context) future.Poll[future.Result[time.Time]] {
	switch err := pollTimer(cx, &iv.entry, iv.next); err {
	case errPending:
		return future.Pending[future.Result[time.Time]]()
	case nil:
		at := iv.next
		iv.next += iv.period
		if now := nowNanos(); iv.next <= now {
			// Skip the missed grid points: the next one after now.
			iv.next += ((now-iv.next)/iv.period + 1) * iv.period
		}
		// The entry left the wheel when it fired; the next poll files it
		// again with the new deadline.
		iv.entry.fired.Store(false)
		iv.entry.w = nil
		return future.Ready(future.Ok(epoch.Add(time.Duration(at))))
	default:
		return future.Ready(future.Fail[time.Time](err))
	}
}

// Tick returns a future of the next tick (see PollTick).
func (iv *Interval) Tick() future.Future[future.Result[time.Time]] {
	return tickFuture{iv}
}

type tickFuture struct{ iv *Interval }

func (t tickFuture) Poll(cx *future.Context) future.Poll[future.Result[time.Time]] {
	return t.iv.PollTick(cx)
}

// Drop removes the Interval's pending tick from the wheel.
func (iv *Interval) Drop() { dropTimer(&iv.entry) }
