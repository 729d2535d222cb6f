package executor

import (
	"runtime/debug"
	"sync"

	"github.com/libasync/libasync/future"
)

// SpawnBlocking runs fn, blocking Go code (file I/O, cgo, a library without
// futures), on a goroutine of its own, and returns a future of its outcome;
// a panic in fn becomes a *future.PanicError. Each call gets a new goroutine
// (Go's scheduler is the pool: an idle goroutine costs a few KiB and no
// thread). The executor's Shutdown and Close wait for every fn in flight to
// return, so none outlives its executor; fn itself cannot be interrupted.
// After shutdown began it returns future.ErrClosed.
func SpawnBlocking[T any](s Spawner, fn func() (T, error)) (future.Future[future.Result[T]], error) {
	if s == nil || fn == nil {
		return nil, ErrInvalid
	}
	c := &blockingCall[T]{}
	err := s.goBlocking(func() {
		out := runBlocking(fn)
		c.mu.Lock()
		c.out, c.done = out, true
		w := c.waker
		c.waker = future.Waker{}
		c.mu.Unlock()
		w.Wake()
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

func runBlocking[T any](fn func() (T, error)) (out future.Result[T]) {
	defer func() {
		if r := recover(); r != nil {
			out = future.Fail[T](&future.PanicError{Value: r, Stack: debug.Stack()})
		}
	}()
	v, err := fn()
	return future.Result[T]{Value: v, Err: err}
}

// blockingCall is the future SpawnBlocking returns; its goroutine and its
// poller meet under mu.
type blockingCall[T any] struct {
	mu    sync.Mutex
	done  bool
	out   future.Result[T]
	waker future.Waker
}

func (c *blockingCall[T]) Poll(cx *future.Context) future.Poll[future.Result[T]] {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return future.Ready(c.out)
	}
	c.waker = cx.Waker()
	return future.Pending[future.Result[T]]()
}
