package future

import (
	"context"
	"sync"
)

// ContextDone returns a future that is Ready with ctx.Err() once ctx is done.
// It waits through context.AfterFunc, so no goroutine waits on its behalf (the
// context package runs the wake in a short-lived goroutine when ctx ends).
// Dropping it, or its completion, unregisters that callback. A context that
// is never done (context.Background) gives a future that is never Ready.
func ContextDone(ctx context.Context) Future[error] {
	return &ctxDone{ctx: ctx}
}

// ctxDone is the state of ContextDone, also embedded by WithContext.
type ctxDone struct {
	ctx   context.Context
	mu    sync.Mutex
	waker Waker       // guarded by mu; read by fire
	stop  func() bool // of the AfterFunc registration; nil when none
}

func (c *ctxDone) Poll(cx *Context) Poll[error] {
	// The waker is stored before ctx.Err is checked: if fire ran too early to
	// see this waker, ctx was done before, and the check below sees it.
	c.mu.Lock()
	if w := cx.Waker(); !c.waker.WillWake(w) {
		c.waker = w
	}
	c.mu.Unlock()
	if c.stop == nil {
		c.stop = context.AfterFunc(c.ctx, c.fire)
	}
	if err := c.ctx.Err(); err != nil {
		c.Drop()
		return Ready(err)
	}
	return Pending[error]()
}

func (c *ctxDone) fire() {
	c.mu.Lock()
	w := c.waker
	c.mu.Unlock()
	w.Wake()
}

// Drop unregisters the AfterFunc callback and releases the waker.
func (c *ctxDone) Drop() {
	if c.stop != nil {
		c.stop()
		c.stop = nil
	}
	c.mu.Lock()
	c.waker = Waker{}
	c.mu.Unlock()
}

// WithContext returns a future that runs f until ctx is done. It is Ready
// with Ok and f's value if f finishes first, or with Fail(ctx.Err()) once ctx
// is done, f being dropped then. Each poll looks at ctx first, so f is not
// polled again once ctx is done, even if it could have finished. Dropping
// the WithContext future drops f if it is unfinished.
func WithContext[T any](ctx context.Context, f Future[T]) Future[Result[T]] {
	return &withContext[T]{done: ctxDone{ctx: ctx}, f: f}
}

type withContext[T any] struct {
	done ctxDone
	f    Future[T] // nil once Ready or dropped
}

func (w *withContext[T]) Poll(cx *Context) Poll[Result[T]] {
	if err := w.done.ctx.Err(); err != nil {
		w.Drop()
		return Ready(Fail[T](err))
	}
	if v, ok := w.f.Poll(cx).Value(); ok {
		w.f = nil
		w.done.Drop()
		return Ready(Ok(v))
	}
	if err, ok := w.done.Poll(cx).Value(); ok {
		w.Drop()
		return Ready(Fail[T](err))
	}
	return Pending[Result[T]]()
}

func (w *withContext[T]) Drop() {
	dropChild(&w.f)
	w.done.Drop()
}

// ChanReceiver receives from a Go channel through futures, so that goroutine
// code can feed futures. Build it with FromChan; its methods are safe from
// any goroutine, and any number of Recv futures may wait at once.
//
// A pending Recv future has one helper goroutine blocked on the channel; the
// goroutine never outlives the future: it ends when the future completes or
// is dropped, before Poll or Drop returns. Go cannot wait for a channel
// without receiving from it, so a helper may have taken a value when its
// future is dropped or completes another way. Such a value is never lost:
// the ChanReceiver keeps it, wakes another waiting Recv future for it, and
// the next Recv or TryRecv returns it before anything still in the channel.
// Values are lost only if the ChanReceiver is discarded while Buffered
// reports some.
type ChanReceiver[T any] struct {
	ch      <-chan T
	mu      sync.Mutex
	stash   []T      // values taken from ch by helpers and not yet returned, oldest first
	closed  bool     // ch was seen closed
	waiters waitList // Recv futures that returned Pending
}

// FromChan returns a ChanReceiver for ch. Receiving from a nil channel waits
// forever, as in Go.
func FromChan[T any](ch <-chan T) *ChanReceiver[T] { return &ChanReceiver[T]{ch: ch} }

// Buffered returns how many values the receiver took from the channel and
// holds for its next receives.
func (r *ChanReceiver[T]) Buffered() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.stash)
}

// TryRecv returns a held value, or else a value the channel has ready,
// without waiting. It returns ErrEmpty if there is none, and ErrClosed if
// there is none and the channel is closed.
func (r *ChanReceiver[T]) TryRecv() (T, error) {
	r.mu.Lock()
	if len(r.stash) > 0 {
		v := r.pop()
		r.mu.Unlock()
		return v, nil
	}
	closed := r.closed
	r.mu.Unlock()
	var zero T
	if closed {
		return zero, ErrClosed
	}
	select {
	case v, ok := <-r.ch:
		if !ok {
			r.markClosed()
			return v, ErrClosed
		}
		return v, nil
	default:
		return zero, ErrEmpty
	}
}

// pop takes the oldest held value; the caller holds mu and checked there is
// one.
func (r *ChanReceiver[T]) pop() T {
	v := r.stash[0]
	var zero T
	r.stash[0] = zero // the receiver must not keep the value alive
	r.stash = r.stash[1:]
	return v
}

// passOn returns the waker of a waiting future chosen to take a held value
// that nobody else was told about, or the zero Waker; the caller holds mu.
func (r *ChanReceiver[T]) passOn() Waker {
	if len(r.stash) == 0 {
		return Waker{}
	}
	wk, _ := r.waiters.WakeOne(WokenOne)
	return wk
}

func (r *ChanReceiver[T]) markClosed() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
}

// Recv returns a future that is Ready with Ok and the next value (a held one
// first, then one from the channel), or with Fail(ErrClosed) once the channel
// is closed and nothing is held.
func (r *ChanReceiver[T]) Recv() *ChanRecvFuture[T] { return &ChanRecvFuture[T]{r: r} }

// ChanRecvFuture is the future of ChanReceiver.Recv.
type ChanRecvFuture[T any] struct {
	r      *ChanReceiver[T]
	w      waiter        // in r.waiters while Pending
	waker  Waker         // guarded by r.mu: what the helper wakes
	live   bool          // guarded by r.mu: the helper still waits on the channel
	cancel chan struct{} // non-nil from a helper's start until it was reaped
	exited chan struct{} // closed by the helper as its last act
}

// Poll returns a value if one is held or ready, or waits for one through a
// helper goroutine.
func (f *ChanRecvFuture[T]) Poll(cx *Context) Poll[Result[T]] {
	r := f.r
	r.mu.Lock()
	if len(r.stash) > 0 || r.closed {
		// Reap the helper first, so that a value it takes meanwhile is held
		// before we decide who is told about held values.
		r.mu.Unlock()
		f.stopHelper()
		r.mu.Lock()
		if len(r.stash) > 0 {
			v := r.pop()
			r.waiters.Leave(&f.w)
			wk := r.passOn()
			r.mu.Unlock()
			wk.Wake()
			return Ready(Ok(v))
		}
		if r.closed {
			r.waiters.Leave(&f.w)
			r.mu.Unlock()
			return Ready(Fail[T](ErrClosed))
		}
		// Another receiver took the held value; wait like anyone else.
	}
	// Stored under the lock that a helper takes to stash, so that a value it
	// stashes after this point is announced to this poll's waker.
	wk := cx.Waker()
	r.waiters.Wait(&f.w, wk)
	f.waker = wk
	live := f.live
	r.mu.Unlock()
	if live {
		return Pending[Result[T]]()
	}
	f.stopHelper() // reap a helper that delivered to someone else
	select {
	case v, ok := <-r.ch:
		// Since this poll queued f, a finishing receiver may have chosen f
		// for a held value: hand any held value on.
		r.mu.Lock()
		r.waiters.Leave(&f.w)
		r.closed = r.closed || !ok
		wk := r.passOn()
		r.mu.Unlock()
		wk.Wake()
		if !ok {
			return Ready(Fail[T](ErrClosed))
		}
		return Ready(Ok(v))
	default:
	}
	f.cancel, f.exited = make(chan struct{}), make(chan struct{})
	r.mu.Lock()
	f.live = true
	r.mu.Unlock()
	go f.helper(f.cancel, f.exited)
	return Pending[Result[T]]()
}

// helper waits for the channel on behalf of the future and holds what it
// receives in the ChanReceiver, so that a value is kept even if the future is
// dropped meanwhile.
func (f *ChanRecvFuture[T]) helper(cancel <-chan struct{}, exited chan<- struct{}) {
	defer close(exited)
	select {
	case v, ok := <-f.r.ch:
		r := f.r
		r.mu.Lock()
		if ok {
			r.stash = append(r.stash, v)
		} else {
			r.closed = true
		}
		f.live = false
		w := f.waker
		r.mu.Unlock()
		w.Wake()
	case <-cancel:
	}
}

// stopHelper ends the helper, if any, and waits until it has exited.
func (f *ChanRecvFuture[T]) stopHelper() {
	if f.cancel == nil {
		return
	}
	close(f.cancel)
	<-f.exited
	f.cancel, f.exited = nil, nil
	f.r.mu.Lock()
	f.live = false
	f.r.mu.Unlock()
}

// Drop ends the helper goroutine before returning; a value it had taken
// stays with the ChanReceiver, and another waiting Recv future is woken for
// it.
func (f *ChanRecvFuture[T]) Drop() {
	f.stopHelper()
	r := f.r
	r.mu.Lock()
	r.waiters.Leave(&f.w)
	f.waker = Waker{}
	wk := r.passOn()
	r.mu.Unlock()
	wk.Wake()
}
