package drivertest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/libasync/libasync/driver"
)

// errWouldBlock is what the socket seam returns for EAGAIN, EWOULDBLOCK and
// WSAEWOULDBLOCK, so the shared code needs no platform error values.
var errWouldBlock = errors.New("drivertest: operation would block")

// patience bounds every "eventually": generous, since it is only ever spent
// by a failing driver or an overloaded machine.
const patience = 20 * time.Second

// quietFor is how long a driver must stay silent where no event may come.
const quietFor = 150 * time.Millisecond

// harness owns one driver and the sockets of one test. At cleanup the driver
// is closed first and the sockets after, since the contract wants an fd
// deregistered (or its driver gone) before the fd is closed.
type harness struct {
	tb       testing.TB
	d        driver.Driver
	mu       sync.Mutex
	socks    map[driver.FD]bool
	listener driver.FD
	port     int
}

func newHarness(tb testing.TB, open func() (driver.Driver, error)) *harness {
	tb.Helper()
	h := &harness{tb: tb, socks: make(map[driver.FD]bool), listener: invalidFD}
	// Registered before Open's, so it runs after the driver is closed.
	tb.Cleanup(func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		for fd := range h.socks {
			closeSocket(fd)
		}
	})
	h.d = Open(tb, open)
	return h
}

// Open returns a driver from open for a test of its own, and closes it when
// the test ends (unless the test did). It fails the test when open or that
// Close fails.
func Open(tb testing.TB, open func() (driver.Driver, error)) driver.Driver {
	tb.Helper()
	d, err := open()
	if err != nil {
		tb.Fatalf("open driver: %v", err)
	}
	tb.Cleanup(func() {
		if err := d.Close(); err != nil && !errors.Is(err, driver.ErrClosed) {
			tb.Errorf("Close: %v", err)
		}
	})
	return d
}

func (h *harness) track(fd driver.FD) {
	h.mu.Lock()
	h.socks[fd] = true
	h.mu.Unlock()
}

// listen returns the harness's listener, created on first use.
func (h *harness) listen() (driver.FD, int) {
	h.tb.Helper()
	if h.listener == invalidFD {
		l, port, err := listenLoopback()
		if err != nil {
			h.tb.Fatalf("listen: %v", err)
		}
		h.track(l)
		h.listener, h.port = l, port
	}
	return h.listener, h.port
}

// connect starts a non-blocking connect to the harness's listener.
func (h *harness) connect() driver.FD {
	h.tb.Helper()
	_, port := h.listen()
	c, err := startConnect(port)
	if err != nil {
		h.tb.Fatalf("connect: %v", err)
	}
	h.track(c)
	return c
}

// accept takes the next connection from the harness's listener, polling the
// non-blocking listener until the handshake has completed.
func (h *harness) accept() driver.FD {
	h.tb.Helper()
	l, _ := h.listen()
	deadline := time.Now().Add(patience)
	for {
		s, err := acceptOne(l)
		if err == nil {
			h.track(s)
			return s
		}
		if !errors.Is(err, errWouldBlock) || time.Now().After(deadline) {
			h.tb.Fatalf("accept: %v", err)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// pair returns the two ends of an established loopback TCP connection, both
// non-blocking. Connections are made one at a time, so the one accepted is
// the one just started.
func (h *harness) pair() (a, b driver.FD) {
	h.tb.Helper()
	a = h.connect()
	b = h.accept()
	return a, b
}

// forget drops fd from the harness without closing it.
func (h *harness) forget(fd driver.FD) {
	h.mu.Lock()
	delete(h.socks, fd)
	h.mu.Unlock()
}

func (h *harness) close(fd driver.FD) {
	h.tb.Helper()
	h.forget(fd)
	if err := closeSocket(fd); err != nil {
		h.tb.Fatalf("close socket: %v", err)
	}
}

func (h *harness) reset(fd driver.FD) {
	h.tb.Helper()
	h.forget(fd)
	if err := resetSocket(fd); err != nil {
		h.tb.Fatalf("reset socket: %v", err)
	}
}

// awaitReset reads fd until the peer's reset shows, as an error. It returns
// an error if the read gives a plain end of stream instead, as Wine 8 does:
// its closesocket with SO_LINGER 0 does not send the RST to a Wine peer.
func awaitReset(fd driver.FD) error {
	var buf [16]byte
	deadline := time.Now().Add(patience)
	for {
		n, err := readSocket(fd, buf[:])
		switch {
		case err == nil && n == 0:
			return errors.New("a read after the peer's reset returned end of stream")
		case err != nil && !errors.Is(err, errWouldBlock):
			return nil
		case time.Now().After(deadline):
			return fmt.Errorf("no error from a read %v after the peer's reset", patience)
		}
		time.Sleep(time.Millisecond)
	}
}

func (h *harness) write(fd driver.FD, p []byte) {
	h.tb.Helper()
	n, err := writeSocket(fd, p)
	if err != nil || n != len(p) {
		h.tb.Fatalf("write: %d of %d bytes, %v", n, len(p), err)
	}
}

// drain reads fd until it would block, returning the bytes read.
func (h *harness) drain(fd driver.FD) int {
	h.tb.Helper()
	var buf [4096]byte
	total := 0
	for {
		n, err := readSocket(fd, buf[:])
		if errors.Is(err, errWouldBlock) {
			return total
		}
		if err != nil {
			h.tb.Fatalf("read: %v", err)
		}
		if n == 0 {
			return total
		}
		total += n
	}
}

func (h *harness) register(fd driver.FD, tok driver.Token, in driver.Interest) {
	h.tb.Helper()
	if err := h.d.Register(fd, tok, in); err != nil {
		h.tb.Fatalf("Register(%v, %d, %d): %v", fd, tok, in, err)
	}
}

func (h *harness) rearm(fd driver.FD, tok driver.Token, in driver.Interest) {
	h.tb.Helper()
	if err := h.d.Rearm(fd, tok, in); err != nil {
		h.tb.Fatalf("Rearm(%v, %d, %d): %v", fd, tok, in, err)
	}
}

// wait runs one Wait and checks what every Wait must satisfy.
func (h *harness) wait(events []driver.Event, timeout time.Duration) []driver.Event {
	h.tb.Helper()
	n, err := h.d.Wait(events, timeout)
	if err != nil {
		h.tb.Fatalf("Wait: %v", err)
	}
	if n < 0 || n > len(events) {
		h.tb.Fatalf("Wait returned n = %d for %d slots", n, len(events))
	}
	return events[:n]
}

// until runs Waits, merging the readiness reported per token, until cond
// holds of it; it fails the test if that takes longer than patience.
func (h *harness) until(what string, cond func(seen map[driver.Token]driver.Readiness) bool) map[driver.Token]driver.Readiness {
	h.tb.Helper()
	return h.untilWith(make([]driver.Event, 64), what, nil, cond)
}

// untilWith is until with a given events slice and a hook run on every
// event (to rearm, for instance).
func (h *harness) untilWith(events []driver.Event, what string, each func(driver.Event), cond func(seen map[driver.Token]driver.Readiness) bool) map[driver.Token]driver.Readiness {
	h.tb.Helper()
	seen := make(map[driver.Token]driver.Readiness)
	deadline := time.Now().Add(patience)
	for !cond(seen) {
		if time.Now().After(deadline) {
			h.tb.Fatalf("%s: not reported within %v; saw %v", what, patience, seen)
		}
		for _, ev := range h.wait(events, 100*time.Millisecond) {
			seen[ev.Token] |= ev.Readiness
			if each != nil {
				each(ev)
			}
		}
	}
	return seen
}

// quiet runs Waits for quietFor and fails if any of them reports an event
// for which bad returns true (any event at all if bad is nil).
func (h *harness) quiet(what string, bad func(driver.Event) bool) {
	h.tb.Helper()
	events := make([]driver.Event, 64)
	end := time.Now().Add(quietFor)
	for left := quietFor; left > 0; left = time.Until(end) {
		for _, ev := range h.wait(events, left) {
			if bad == nil || bad(ev) {
				h.tb.Fatalf("%s: unexpected event %+v", what, ev)
			}
		}
	}
}

// has returns a condition: tok was reported with every bit of want.
func has(tok driver.Token, want driver.Readiness) func(map[driver.Token]driver.Readiness) bool {
	return func(seen map[driver.Token]driver.Readiness) bool { return seen[tok]&want == want }
}

// blockingWait runs Wait with no time limit on its own goroutine and returns
// a channel that delivers its events when it returns. Should the Wait never
// return, a watchdog fails the test after patience and calls Wake, so that
// a broken driver fails the test instead of hanging it.
func (h *harness) blockingWait(t testing.TB, events []driver.Event) <-chan []driver.Event {
	out := make(chan []driver.Event, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		n, err := h.d.Wait(events, -1)
		if err != nil {
			t.Errorf("Wait: %v", err)
		}
		out <- events[:n]
	}()
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(patience):
				t.Errorf("Wait(-1) still blocked after %v", patience)
				h.d.Wake()
			}
		}
	}()
	t.Cleanup(func() { <-done })
	return out
}
