package tasksync

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/libasync/libasync/future"
)

// CancellationToken signals cancellation to tasks: Cancel it once, and
// every Cancelled future of it becomes Ready, IsCancelled reports true, and
// its child tokens, theirs, and so on, are cancelled with it. A child
// cancelled on its own does not cancel its parent.
//
// The token is bridged to context.Context both ways: Context returns a
// context that is done once the token is cancelled, for goroutine code and
// APIs that take a context; TokenFromContext returns a token cancelled once
// a context is done. Neither keeps a goroutine.
//
// A *CancellationToken is shared by copying the pointer; all methods are
// safe from any goroutine. Like a context's cancel function, Cancel is also
// how a token that is no longer needed is released: a child token stays
// registered with its parent until one of the two is cancelled, so cancel
// short-lived children when done with them (`defer child.Cancel()`).
type CancellationToken struct {
	// cancelled is set once, under mu, and read without it by IsCancelled
	// and the Cancelled futures' first poll: Go's atomics are sequentially
	// consistent, so a reader that sees true also sees everything the
	// canceller did before Cancel.
	cancelled atomic.Bool
	mu        sync.Mutex
	children  *CancellationToken        // the head of the children's list; guarded by mu
	waiters   future.WaitList[struct{}] // Cancelled futures waiting; guarded by mu
	ctx       context.Context           // made by Context; guarded by mu
	cancelCtx context.CancelFunc        // ctx's; guarded by mu
	stop      func() bool               // ends TokenFromContext's registration; guarded by mu

	parent *CancellationToken // immutable
	base   context.Context    // what Context derives from; immutable
	// The links in the parent's list of children, guarded by parent.mu.
	prev, next *CancellationToken
	linked     bool
}

// NewCancellationToken returns a token that is not cancelled.
func NewCancellationToken() *CancellationToken {
	return &CancellationToken{base: context.Background()}
}

// TokenFromContext returns a token that is cancelled once ctx is done (at
// once if it is done already), and that may also be cancelled on its own.
// It waits through context.AfterFunc, so no goroutine waits for ctx; the
// registration ends when the token is cancelled. Its Context, and those of
// its children, derive from ctx, so they carry ctx's values and deadline.
func TokenFromContext(ctx context.Context) *CancellationToken {
	t := &CancellationToken{base: ctx}
	if ctx.Done() == nil {
		return t // never done
	}
	stop := context.AfterFunc(ctx, t.Cancel)
	t.mu.Lock()
	t.stop = stop
	t.mu.Unlock()
	if ctx.Err() != nil {
		t.Cancel() // done already: cancelled before we return, not later by AfterFunc
	}
	return t
}

// Child returns a new token that is cancelled when t is (at once if t is
// cancelled already), and that may be cancelled on its own without
// affecting t.
func (t *CancellationToken) Child() *CancellationToken {
	c := &CancellationToken{parent: t, base: t.base}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cancelled.Load() {
		c.cancelled.Store(true)
		return c
	}
	c.next, c.linked = t.children, true
	if t.children != nil {
		t.children.prev = c
	}
	t.children = c
	return c
}

// Cancel cancels t and, before it returns, every token descended from it:
// their Cancelled futures are woken and their contexts are done. Cancelling
// again does nothing.
func (t *CancellationToken) Cancel() {
	t.mu.Lock()
	if t.cancelled.Load() {
		t.mu.Unlock()
		return
	}
	t.cancelled.Store(true)
	t.waiters.WakeAll()
	cancelCtx, stop := t.cancelCtx, t.stop
	t.stop = nil
	t.mu.Unlock()
	if cancelCtx != nil {
		cancelCtx()
	}
	if stop != nil {
		stop()
	}
	if p := t.parent; p != nil {
		p.mu.Lock()
		p.unlink(t)
		p.mu.Unlock()
	}
	// No child is added once cancelled is set, so this ends. Each is taken
	// off under mu and cancelled outside it: no two tokens' locks are ever
	// held at once.
	for {
		t.mu.Lock()
		c := t.children
		if c != nil {
			t.unlink(c)
		}
		t.mu.Unlock()
		if c == nil {
			return
		}
		c.Cancel()
	}
}

// unlink takes child c out of t's list if it is in it; the caller holds
// t.mu.
func (t *CancellationToken) unlink(c *CancellationToken) {
	if !c.linked {
		return
	}
	if c.prev == nil {
		t.children = c.next
	} else {
		c.prev.next = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	}
	c.prev, c.next, c.linked = nil, nil, false
}

// IsCancelled reports whether t was cancelled.
func (t *CancellationToken) IsCancelled() bool { return t.cancelled.Load() }

// Context returns a context that is done once t is cancelled, with
// context.Canceled as its error (or, for a token from TokenFromContext, the
// error of that context if it ended first). It has no deadline and no
// values of its own, beyond those of the context the token came from. The
// same context is returned on every call.
func (t *CancellationToken) Context() context.Context {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ctx == nil {
		t.ctx, t.cancelCtx = context.WithCancel(t.base)
		if t.cancelled.Load() {
			t.cancelCtx()
		}
	}
	return t.ctx
}

// Cancelled returns a future that is Ready once t is cancelled (at its
// first poll if it is already).
//
// Cancel safety: cancel safe. Dropping the future before it is Ready only
// stops its wait; the token is not affected.
func (t *CancellationToken) Cancelled() *CancelledFuture { return &CancelledFuture{t: t} }

// CancelledFuture is the future of CancellationToken.Cancelled.
type CancelledFuture struct {
	t *CancellationToken
	w future.Waiter[struct{}]
	// waiting: the last poll queued w (only the owner touches it), so that
	// a poll after the cancellation may skip the lock only if w is not in
	// the list that Cancel is about to walk.
	waiting bool
}

// Poll is Ready once the token is cancelled.
func (f *CancelledFuture) Poll(cx *future.Context) future.Poll[struct{}] {
	t := f.t
	if !f.waiting && t.cancelled.Load() {
		return future.Ready(struct{}{})
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cancelled.Load() {
		t.waiters.Leave(&f.w)
		f.waiting = false
		return future.Ready(struct{}{})
	}
	t.waiters.Wait(&f.w, cx.Waker())
	f.waiting = true
	return future.Pending[struct{}]()
}

// Drop stops a pending wait.
func (f *CancelledFuture) Drop() {
	if !f.waiting {
		return
	}
	f.waiting = false
	f.t.mu.Lock()
	f.t.waiters.Leave(&f.w)
	f.t.mu.Unlock()
}
