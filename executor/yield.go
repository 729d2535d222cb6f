package executor

import "github.com/libasync/libasync/future"

// YieldNow returns a future that is Pending once, after waking its task, and
// Ready on the next poll: the task goes to the back of the run queue, so
// that other tasks, timers and I/O get a turn.
func YieldNow() *Yield { return &Yield{} }

// Yield is the future of YieldNow. Its zero value is ready to use, so a state
// machine can embed one and reset it to the zero value to yield again
// without allocating.
type Yield struct{ yielded bool }

// Poll is Pending on the first call (having woken the task) and Ready after.
func (y *Yield) Poll(cx *future.Context) future.Poll[struct{}] {
	if y.yielded {
		return future.Ready(struct{}{})
	}
	y.yielded = true
	cx.Waker().Wake()
	return future.Pending[struct{}]()
}
