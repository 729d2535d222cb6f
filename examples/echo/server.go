package main

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/libasync/libasync/executor"
	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/socket"
)

// bufSize is the per-connection buffer while bytes are in flight.
const bufSize = 4096

// bufs holds the buffers of connections that wait idle; a connection takes
// one when it is readable and gives it back when its reads run dry.
var bufs = sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }}

// serverExecutor is what the server runs on: a Local, or a Runtime when it
// has more than one worker.
type serverExecutor interface {
	executor.Executor
	DriverName() string
}

// listen opens the listener on ex.
func listen(ex executor.Executor, addr string) (*socket.Listener, error) {
	r, err := executor.BlockOn(ex, future.Future[future.Result[*socket.Listener]](socket.Listen(addr)))
	if err != nil {
		return nil, err
	}
	return r.Value, r.Err
}

// serve listens on addr and echoes until the process ends.
func serve(ex serverExecutor, addr string) error {
	l, err := listen(ex, addr)
	if err != nil {
		return err
	}
	fmt.Printf("listening on %v (driver %s)\n", l.Addr(), ex.DriverName())
	_, err = executor.BlockOn(ex, &acceptLoop{l: l})
	return err
}

// acceptLoop accepts connections and spawns an echoConn task for each. It
// ends only with an error of the listener (or its Close).
type acceptLoop struct {
	l       *socket.Listener
	backoff *executor.SleepFuture // after a failed accept
}

func (a *acceptLoop) Poll(cx *future.Context) future.Poll[error] {
	sp, err := executor.SpawnerOf(cx)
	if err != nil {
		return future.Ready(err)
	}
	for {
		if a.backoff != nil {
			if a.backoff.Poll(cx).IsPending() {
				return future.Pending[error]()
			}
			a.backoff = nil
		}
		p := a.l.PollAccept(cx)
		r, ok := p.Value()
		if !ok {
			return future.Pending[error]()
		}
		if r.Err != nil {
			if errors.Is(r.Err, net.ErrClosed) {
				return future.Ready[error](nil)
			}
			// Out of descriptors and the like: the connection is lost,
			// and the server goes on after a pause, since accepting again
			// at once would fail the same way.
			a.backoff = executor.Sleep(10 * time.Millisecond)
			continue
		}
		h, err := executor.Spawn[struct{}](sp, &echoConn{s: r.Value})
		if err != nil {
			r.Value.Close()
			return future.Ready(err)
		}
		h.Detach()
	}
}

// Drop stops accepting.
func (a *acceptLoop) Drop() {
	if a.backoff != nil {
		a.backoff.Drop()
	}
	a.l.Close()
}

// echoConn echoes one connection: read what is there, write it all back,
// repeat. It holds a buffer only between a read that returned bytes and the
// write that finished sending them.
type echoConn struct {
	s      *socket.Stream
	buf    *[]byte
	n, off int // bytes in buf, and how many of them are written
}

// budget bounds the read-write rounds of one poll, so that a busy
// connection lets the others run.
const budget = 16

func (c *echoConn) Poll(cx *future.Context) future.Poll[struct{}] {
	for range budget {
		if c.off < c.n {
			p := c.s.PollWrite(cx, (*c.buf)[c.off:c.n])
			r, ok := p.Value()
			if !ok {
				return future.Pending[struct{}]() // the bytes stay in the buffer
			}
			if r.Err != nil {
				return c.finish()
			}
			c.off += r.Value
			continue
		}
		if c.buf == nil {
			c.buf = bufs.Get().(*[]byte)
		}
		p := c.s.PollRead(cx, *c.buf)
		r, ok := p.Value()
		if !ok {
			bufs.Put(c.buf)
			c.buf = nil
			return future.Pending[struct{}]()
		}
		if r.Err != nil {
			return c.finish()
		}
		c.n, c.off = r.Value, 0
	}
	cx.Waker().Wake()
	return future.Pending[struct{}]()
}

// finish closes the connection and returns its buffer.
func (c *echoConn) finish() future.Poll[struct{}] {
	c.Drop()
	return future.Ready(struct{}{})
}

// Drop closes the connection (the executor drops tasks at shutdown).
func (c *echoConn) Drop() {
	c.s.Close()
	if c.buf != nil {
		bufs.Put(c.buf)
		c.buf = nil
	}
}
