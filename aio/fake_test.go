package aio

import (
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/libasync/libasync/future"
)

// fakeStream is an in-memory stream for tests: reads drain bytes fed to it,
// writes append to a sink. It returns Pending at random points (and when it
// has no data or no room), waking the waker later from another goroutine;
// it serves reads and writes in random short chunks; it answers a second
// reader or writer ErrBusy, as the Reader contract asks.
type fakeStream struct {
	mu       sync.Mutex
	rng      *rand.Rand
	pending  float64 // probability that a poll returns Pending though it could progress
	maxChunk int     // largest read or write served by one poll
	src      []byte  // bytes readers get next
	srcEnd   error   // given once src is drained (io.EOF, or a failure); nil: more may come
	sink     []byte  // what writers wrote
	room     int     // bytes the sink accepts before writers wait; <0 unlimited
	writeErr error   // given to writers once set
	flushes  int     // PollFlush calls that completed
	closedW  bool    // PollCloseWrite completed
	rslot    pendingSlot
	wslot    pendingSlot
	wakers   sync.WaitGroup
}

func newFake(seed uint64, pending float64, maxChunk int) *fakeStream {
	return &fakeStream{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), pending: pending, maxChunk: maxChunk, room: -1}
}

// wait waits for the goroutines that deliver delayed wake-ups.
func (s *fakeStream) wait() { s.wakers.Wait() }

// wakeLater wakes whoever holds slot a moment from now, from another
// goroutine, as a reactor would.
func (s *fakeStream) wakeLater(slot *pendingSlot) {
	s.wakers.Add(1)
	go func() {
		defer s.wakers.Done()
		for range rand.IntN(4) {
			runtime.Gosched()
		}
		s.mu.Lock()
		var w future.Waker
		if slot.taken {
			w = slot.wake()
		}
		s.mu.Unlock()
		w.Wake()
	}()
}

// change runs fn under the lock, then wakes whoever waits in slot, as a
// stream does when its state changes.
func (s *fakeStream) change(slot *pendingSlot, fn func()) {
	s.mu.Lock()
	fn()
	w := slot.wake()
	s.mu.Unlock()
	w.Wake()
}

// feed adds bytes for readers (and wakes a pending one).
func (s *fakeStream) feed(p []byte) { s.change(&s.rslot, func() { s.src = append(s.src, p...) }) }

// end makes readers get err once the fed bytes are drained.
func (s *fakeStream) end(err error) { s.change(&s.rslot, func() { s.srcEnd = err }) }

// setRoom lets writers put n more bytes (n < 0: unlimited), waking one.
func (s *fakeStream) setRoom(n int) { s.change(&s.wslot, func() { s.room = n }) }

// failWrites makes writers get err.
func (s *fakeStream) failWrites(err error) { s.change(&s.wslot, func() { s.writeErr = err }) }

func (s *fakeStream) written() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.sink...)
}

func (s *fakeStream) chunk(n int) int {
	if s.maxChunk > 0 && n > s.maxChunk {
		n = s.maxChunk
	}
	if n > 1 {
		n = 1 + s.rng.IntN(n)
	}
	return n
}

func (s *fakeStream) PollRead(cx *future.Context, p []byte) pollN {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.rslot.enter(cx.Waker()) {
		return failN(ErrBusy)
	}
	if len(p) == 0 {
		return readyN(0)
	}
	if s.rng.Float64() < s.pending {
		s.rslot.park(cx.Waker())
		s.wakeLater(&s.rslot)
		return future.Pending[future.Result[int]]()
	}
	if len(s.src) == 0 {
		if s.srcEnd != nil {
			return failN(s.srcEnd)
		}
		s.rslot.park(cx.Waker())
		return future.Pending[future.Result[int]]()
	}
	n := copy(p[:s.chunk(min(len(p), len(s.src)))], s.src)
	s.src = s.src[n:]
	return readyN(n)
}

func (s *fakeStream) CancelRead(w future.Waker) {
	s.mu.Lock()
	s.rslot.cancel(w)
	s.mu.Unlock()
}

func (s *fakeStream) PollWrite(cx *future.Context, p []byte) pollN {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.wslot.enter(cx.Waker()) {
		return failN(ErrBusy)
	}
	if s.writeErr != nil {
		return failN(s.writeErr)
	}
	if len(p) == 0 {
		return readyN(0)
	}
	if s.rng.Float64() < s.pending {
		s.wslot.park(cx.Waker())
		s.wakeLater(&s.wslot)
		return future.Pending[future.Result[int]]()
	}
	n := s.chunk(len(p))
	if s.room >= 0 {
		if s.room == 0 {
			s.wslot.park(cx.Waker())
			return future.Pending[future.Result[int]]()
		}
		n = min(n, s.room)
		s.room -= n
	}
	s.sink = append(s.sink, p[:n]...)
	return readyN(n)
}

func (s *fakeStream) PollFlush(cx *future.Context) pollUnit {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.wslot.enter(cx.Waker()) {
		return failUnit(ErrBusy)
	}
	if s.rng.Float64() < s.pending {
		s.wslot.park(cx.Waker())
		s.wakeLater(&s.wslot)
		return future.Pending[future.Result[struct{}]]()
	}
	s.flushes++
	return readyUnit()
}

func (s *fakeStream) PollCloseWrite(cx *future.Context) pollUnit {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.wslot.enter(cx.Waker()) {
		return failUnit(ErrBusy)
	}
	s.closedW = true
	return readyUnit()
}

func (s *fakeStream) CancelWrite(w future.Waker) {
	s.mu.Lock()
	s.wslot.cancel(w)
	s.mu.Unlock()
}

// pollOnce polls f once with a waker that counts its wakes.
func pollOnce[T any](f future.Future[T], w future.Waker) future.Poll[T] {
	return f.Poll(future.NewContext(w, nil))
}

// counter is a Wakeable that counts wakes.
type counter struct {
	mu sync.Mutex
	n  int
}

func (c *counter) Wake() {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
}

func (c *counter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// pattern returns n bytes that differ from one offset to the next, so that
// a lost, repeated or reordered chunk shows.
func pattern(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i*7 + i>>8 + i>>16)
	}
	return p
}

// readAll reads r to io.EOF with reads of size chunk.
func readAll(t *testing.T, r Reader, chunk int) []byte {
	t.Helper()
	out, err := readAllErr(r, chunk)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// readAllErr is readAll for goroutines other than the test's.
func readAllErr(r Reader, chunk int) ([]byte, error) {
	var out []byte
	buf := make([]byte, chunk)
	for {
		res := future.BlockOn[future.Result[int]](Read(r, buf))
		if res.Err == io.EOF {
			return out, nil
		}
		if res.Err != nil {
			return out, fmt.Errorf("read after %d bytes: %w", len(out), res.Err)
		}
		if res.Value <= 0 || res.Value > chunk {
			return out, fmt.Errorf("read returned %d for a buffer of %d", res.Value, chunk)
		}
		out = append(out, buf[:res.Value]...)
	}
}
