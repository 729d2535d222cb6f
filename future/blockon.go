package future

// BlockOn drives f to completion on the calling goroutine and returns its
// value. Between polls the goroutine parks (it does not spin) until f's waker
// fires; wakes that arrive while f is being polled, or several before the
// next poll, cause a single further poll.
//
// BlockOn lends no executor services (Context.Services is nil), so futures
// that need a runtime (sockets, timers, spawning) report ErrNoRuntime; it is
// meant for main functions, tests and goroutine code that needs one result.
// Calling it from inside a task blocks that task's worker. A panic in f
// reaches the caller of BlockOn.
func BlockOn[T any](f Future[T]) T {
	p := make(parker, 1)
	cx := NewContext(NewWaker(p), nil)
	for {
		if v, ok := f.Poll(cx).Value(); ok {
			return v
		}
		<-p
	}
}

// parker is the Wakeable of BlockOn: a wake leaves a token in its
// one-slot buffer unless one is there already, which coalesces wakes.
type parker chan struct{}

func (p parker) Wake() {
	select {
	case p <- struct{}{}:
	default:
	}
}
