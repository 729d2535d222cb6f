package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"github.com/libasync/libasync/executor"
	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/socket"
)

type clientConfig struct {
	addr             string
	conns, size      int
	duration, warmup time.Duration
	rate             int  // requests per second over all connections; 0: no pause
	announce         bool // print START before the measured window
}

// report is what a client run measured.
type report struct {
	requests int
	elapsed  time.Duration
	p50, p99 time.Duration
	fewest   int // round trips of the connection that completed the fewest
	stalled  int // connections with a whole second of the window without a round trip
}

func (r report) String() string {
	return fmt.Sprintf("END requests=%d seconds=%.3f req/s=%.0f p50=%v p99=%v conn_min=%d conn_stalled=%d",
		r.requests, r.elapsed.Seconds(), float64(r.requests)/r.elapsed.Seconds(), r.p50, r.p99, r.fewest, r.stalled)
}

// histogram counts round trips by latency, 1 µs per bucket up to maxLatency.
const maxLatency = 100 * time.Millisecond

type histogram struct {
	counts [maxLatency / time.Microsecond]uint32
	over   uint32
	total  int
}

func (h *histogram) add(d time.Duration) {
	h.total++
	if i := int(d / time.Microsecond); i < len(h.counts) {
		h.counts[i]++
		return
	}
	h.over++
}

// quantile returns the latency under which q of the round trips fell.
func (h *histogram) quantile(q float64) time.Duration {
	want := int(q * float64(h.total))
	seen := 0
	for i, c := range h.counts {
		seen += int(c)
		if seen > want {
			return time.Duration(i+1) * time.Microsecond
		}
	}
	return maxLatency
}

// load is shared by the client's connections; they all run on the one
// goroutine of a Local executor, so it needs no locking.
type load struct {
	hist      *histogram // nil when nothing is measured (mode idle)
	measuring bool
	t0        time.Time // when the measured window began
	stop      bool
	connected int
	echoed    int // connections that completed their rounds (mode idle)
	failed    error
}

// clientConn is one connection of the load client, a state machine: connect,
// then write the message and read it back, over and over.
type clientConn struct {
	ld      *load
	connect *socket.ConnectFuture
	s       *socket.Stream
	msg     []byte
	buf     []byte
	off     int // bytes of msg written, then of the echo read
	reading bool
	start   time.Time
	rounds  int // round trips left before parking idle; 0: no limit

	// measured counts the round trips this connection completed in the
	// measured window, and perSecond those in each of its whole seconds,
	// for the fairness figures of the report.
	measured  int
	perSecond []int

	// interval paces a connection of a rate-limited load: its messages go
	// out on a fixed schedule (next), each waiting in pause when the echo
	// of the last came back early, so the server sees an open, steady load
	// instead of a closed loop that keeps it saturated.
	interval time.Duration
	next     time.Time
	pause    *executor.SleepFuture
}

func (c *clientConn) Poll(cx *future.Context) future.Poll[struct{}] {
	if c.s == nil {
		r, ok := c.connect.Poll(cx).Value()
		if !ok {
			return future.Pending[struct{}]()
		}
		if r.Err != nil {
			c.ld.failed = r.Err
			return future.Ready(struct{}{})
		}
		c.s = r.Value
		c.ld.connected++
		c.start = time.Now()
		if c.interval > 0 {
			// Spread the connections over the interval, so the load does
			// not come in one burst per period.
			c.next = c.start.Add(rand.N(c.interval))
		}
	}
	for !c.ld.stop {
		if !c.reading && c.off == 0 && c.interval > 0 {
			if c.pause == nil {
				c.pause = executor.SleepUntil(c.next)
			}
			r, ok := c.pause.Poll(cx).Value()
			if !ok {
				return future.Pending[struct{}]()
			}
			if r.Err != nil {
				return c.fail(r.Err)
			}
			c.pause = nil
			c.start = time.Now()
			if c.next = c.next.Add(c.interval); c.next.Before(c.start) {
				// Behind schedule (the server is saturated): send now, and
				// do not burst to catch up.
				c.next = c.start
			}
		}
		if !c.reading {
			r, ok := c.s.PollWrite(cx, c.msg[c.off:]).Value()
			if !ok {
				return future.Pending[struct{}]()
			}
			if r.Err != nil {
				return c.fail(r.Err)
			}
			if c.off += r.Value; c.off == len(c.msg) {
				c.reading, c.off = true, 0
			}
			continue
		}
		r, ok := c.s.PollRead(cx, c.buf[c.off:]).Value()
		if !ok {
			return future.Pending[struct{}]()
		}
		if r.Err != nil {
			return c.fail(r.Err)
		}
		if c.off += r.Value; c.off == len(c.buf) {
			now := time.Now()
			if c.ld.measuring {
				c.ld.hist.add(now.Sub(c.start))
				c.measured++
				if sec := int(now.Sub(c.ld.t0) / time.Second); sec < len(c.perSecond) {
					c.perSecond[sec]++
				}
			}
			c.start = now
			c.reading, c.off = false, 0
			if c.rounds > 0 {
				if c.rounds--; c.rounds == 0 {
					// Idle from now on: the task is never woken again and
					// the connection stays open until the process ends.
					c.ld.echoed++
					return future.Pending[struct{}]()
				}
			}
		}
	}
	c.s.Close()
	return future.Ready(struct{}{})
}

func (c *clientConn) fail(err error) future.Poll[struct{}] {
	c.ld.failed = err
	c.s.Close()
	return future.Ready(struct{}{})
}

// Drop closes the connection.
func (c *clientConn) Drop() {
	if c.pause != nil {
		c.pause.Drop()
	}
	if c.s != nil {
		c.s.Close()
	} else {
		c.connect.Drop()
	}
}

// runClient runs the load and returns what it measured.
func runClient(ex *executor.Local, cfg clientConfig) (report, error) {
	ld := &load{hist: &histogram{}}
	msg := make([]byte, cfg.size)
	for i := range msg {
		msg[i] = byte('a' + i%26)
	}
	var interval time.Duration
	if cfg.rate > 0 {
		interval = time.Duration(cfg.conns) * time.Second / time.Duration(cfg.rate)
	}
	var handles []*executor.JoinHandle[struct{}]
	var conns []*clientConn
	for range cfg.conns {
		c := &clientConn{ld: ld, connect: socket.Connect(cfg.addr), msg: msg, buf: make([]byte, cfg.size), interval: interval,
			perSecond: make([]int, cfg.duration/time.Second)}
		h, err := executor.Spawn[struct{}](ex, c)
		if err != nil {
			return report{}, err
		}
		handles = append(handles, h)
		conns = append(conns, c)
	}
	var rep report
	control := future.Async(func(a *future.Awaiter) error {
		for ld.connected < cfg.conns && ld.failed == nil {
			future.Await(a, executor.Sleep(5*time.Millisecond))
		}
		if ld.failed != nil {
			ld.stop = true
			return ld.failed
		}
		future.Await(a, executor.Sleep(cfg.warmup))
		if cfg.announce {
			fmt.Println("START")
			os.Stdout.Sync()
		}
		ld.measuring, ld.t0 = true, time.Now()
		future.Await(a, executor.Sleep(cfg.duration))
		ld.measuring = false
		rep = report{requests: ld.hist.total, elapsed: time.Since(ld.t0), p50: ld.hist.quantile(0.5), p99: ld.hist.quantile(0.99)}
		rep.fewest, rep.stalled = fairness(conns)
		ld.stop = true
		for _, h := range handles {
			future.Await(a, h)
		}
		return ld.failed
	})
	err, berr := executor.BlockOn(ex, control)
	if berr != nil {
		return rep, berr
	}
	return rep, err
}

// fairness returns the fewest round trips any connection completed in the
// measured window, and how many connections had a whole second of it with
// none: a server can look cheap per request while it starves some.
func fairness(conns []*clientConn) (fewest, stalled int) {
	for i, c := range conns {
		if i == 0 || c.measured < fewest {
			fewest = c.measured
		}
		if slices.Contains(c.perSecond, 0) {
			stalled++
		}
	}
	return fewest, stalled
}

// holdIdle opens conns connections, echoes one message on each, prints
// READY and waits until the process is killed.
func holdIdle(ex *executor.Local, addr string, conns int) error {
	ld := &load{}
	msg := make([]byte, 64)
	for range conns {
		h, err := executor.Spawn[struct{}](ex, &clientConn{ld: ld, connect: socket.Connect(addr), msg: msg, buf: make([]byte, len(msg)), rounds: 1})
		if err != nil {
			return err
		}
		h.Detach()
	}
	wait := future.Async(func(a *future.Awaiter) error {
		for ld.echoed < conns && ld.failed == nil {
			future.Await(a, executor.Sleep(5*time.Millisecond))
		}
		if ld.failed != nil {
			return ld.failed
		}
		fmt.Println("READY")
		os.Stdout.Sync()
		future.Await(a, future.PollFn(func(*future.Context) future.Poll[struct{}] { return future.Pending[struct{}]() }))
		return nil
	})
	err, berr := executor.BlockOn(ex, wait)
	if berr != nil {
		return berr
	}
	return err
}
