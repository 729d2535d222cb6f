package future

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/libasync/libasync/internal/testkit"
)

// wakeCounter is a Wakeable that counts its wakes.
type wakeCounter = testkit.WakeCounter

// eventLog records events in order, from any goroutine.
type eventLog struct {
	mu     sync.Mutex
	events []string
}

func (l *eventLog) add(format string, args ...any) {
	l.mu.Lock()
	l.events = append(l.events, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *eventLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.events...)
}

// scripted is a test future whose n-th poll returns steps[n] (the last step
// repeats). It logs "name:poll" and "name:drop", keeps the waker of its last
// Pending poll, and logs a contract breach if polled after Ready or dropped
// twice.
type scripted[T any] struct {
	name  string
	steps []Poll[T]
	log   *eventLog
	polls int
	drops int
	ready bool
	waker Waker
}

func script[T any](log *eventLog, name string, steps ...Poll[T]) *scripted[T] {
	return &scripted[T]{name: name, steps: steps, log: log}
}

func (s *scripted[T]) Poll(cx *Context) Poll[T] {
	if s.ready || s.drops > 0 {
		s.log.add("%s:poll after the end", s.name)
	}
	p := s.steps[min(s.polls, len(s.steps)-1)]
	s.polls++
	s.log.add("%s:poll", s.name)
	if p.IsReady() {
		s.ready = true
	} else {
		s.waker = cx.Waker()
	}
	return p
}

func (s *scripted[T]) Drop() {
	s.drops++
	s.log.add("%s:drop", s.name)
}

// pendingThen returns steps of n Pending polls followed by Ready(v).
func pendingThen[T any](n int, v T) []Poll[T] {
	steps := make([]Poll[T], n, n+1)
	return append(steps, Ready(v))
}

// gate is a test future that is Pending until Open is called, from any
// goroutine; it counts its drops.
type gate[T any] struct {
	mu    sync.Mutex
	open  bool
	v     T
	waker Waker
	drops atomic.Int32 // a count only; read after the test joined the dropping goroutine
}

func (g *gate[T]) Poll(cx *Context) Poll[T] {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open {
		return Ready(g.v)
	}
	g.waker = cx.Waker()
	return Pending[T]()
}

// Open makes the gate Ready with v and wakes its last poller.
func (g *gate[T]) Open(v T) {
	g.mu.Lock()
	g.open, g.v = true, v
	w := g.waker
	g.mu.Unlock()
	w.Wake()
}

// waiting reports whether the gate has been polled and holds a waker.
func (g *gate[T]) waiting() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return !g.waker.IsZero()
}

func (g *gate[T]) Drop() { g.drops.Add(1) }

// pollWith polls f once with waker w and no services.
func pollWith[T any](f Future[T], w Wakeable) Poll[T] {
	return f.Poll(NewContext(NewWaker(w), nil))
}

// countingParker is BlockOn's parker with counters, for tests that check
// how often a future was woken and polled.
type countingParker struct {
	ch    chan struct{}
	wakes atomic.Int64 // a count only; read by the polling goroutine after its wake
}

func (p *countingParker) Wake() {
	p.wakes.Add(1)
	select {
	case p.ch <- struct{}{}:
	default:
	}
}

// drive runs f to completion like BlockOn and reports how many polls it
// took and how many wakes it got.
func drive[T any](f Future[T]) (v T, polls int, wakes int64) {
	p := &countingParker{ch: make(chan struct{}, 1)}
	cx := NewContext(NewWaker(p), nil)
	for {
		polls++
		if v, ok := f.Poll(cx).Value(); ok {
			return v, polls, p.wakes.Load()
		}
		<-p.ch
	}
}

// pollUntilReady polls f with a counting waker until it is Ready, at most
// max times, for futures that are ready after a number of polls (scripted
// ones) rather than after a wake.
func pollUntilReady[T any](f Future[T], max int) (v T, polls int, ok bool) {
	var w wakeCounter
	for polls < max {
		polls++
		if v, ok := pollWith(f, &w).Value(); ok {
			return v, polls, true
		}
	}
	return v, polls, false
}

// mustPanic runs fn and returns what it panicked with, or reports false.
func mustPanic(fn func()) (r any, panicked bool) {
	defer func() {
		r = recover()
	}()
	panicked = true
	fn()
	panicked = false
	return nil, false
}
