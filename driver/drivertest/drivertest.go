// Package drivertest is the conformance suite of libasync's readiness
// drivers: every driver's tests call Run with its constructor, so that epoll,
// kqueue, iocp and poll are held to the same contract by the same code.
//
// The suite works on loopback TCP sockets only, since those are what every
// driver (iocp included) can watch. Its assertions follow the contract: a
// driver may report spurious events but never lose one, so the suite checks
// that readiness is reported within a generous time, and checks for silence
// only where no event has any reason to come (an idle socket, a socket
// deregistered or never made ready, a direction reported and not rearmed).
package drivertest

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/internal/leakcheck"
)

// Run runs the conformance suite as subtests of t, each on a fresh driver
// from open. A driver passes when every subtest passes under -race.
func Run(t *testing.T, open func() (driver.Driver, error)) {
	leakcheck.Check(t)
	cases := []struct {
		name string
		fn   func(t *testing.T, h *harness)
	}{
		{"NoEventBeforeReadiness", testNoEventBeforeReadiness},
		{"ReadyBeforeRegister", testReadyBeforeRegister},
		{"OneEventPerEdge", testOneEventPerEdge},
		{"RearmAfterDrain", testRearmAfterDrain},
		{"WritableAfterConnect", testWritableAfterConnect},
		{"ListenerReadable", testListenerReadable},
		{"ReadClosedOnShutdown", testReadClosedOnShutdown},
		{"ResetGivesWriteClosedAndError", testReset},
		{"DeregisterSilences", testDeregister},
		{"CloseAfterDeregisterDuringWait", testCloseDuringWait},
		{"ChangesTakeEffectInBlockedWait", testChangesDuringWait},
		{"WakeEndsBlockingWait", testWakeEndsWait},
		{"WakeBeforeWait", testWakeBeforeWait},
		{"WakeCoalesces", testWakeCoalesces},
		{"TimeoutNeverEarly", testTimeout},
		{"ZeroTimeoutNeverBlocks", testZeroTimeout},
		{"SignalsDuringWait", testSignals},
		{"SmallEventsSliceLosesNothing", testSmallSlice},
		{"ThousandSockets", testManySockets},
		{"Storms", testStorms},
		{"BadInput", testBadInput},
		{"UseAfterClose", testUseAfterClose},
		{"WakeRacesClose", testWakeRacesClose},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			leakcheck.Check(t)
			c.fn(t, newHarness(t, open))
		})
	}
}

// An idle socket registered for reading reports nothing.
func testNoEventBeforeReadiness(t *testing.T, h *harness) {
	a, _ := h.pair()
	h.register(a, 1, driver.Read)
	h.quiet("idle socket", nil)
}

// A socket that is readable when registered is reported by the first Wait.
func testReadyBeforeRegister(t *testing.T, h *harness) {
	a, b := h.pair()
	h.write(b, []byte("x"))
	h.write(a, []byte("y"))
	// Let the bytes cross loopback before registering.
	var one [1]byte
	for {
		if _, err := readSocket(b, one[:]); err == nil {
			break
		} else if !errors.Is(err, errWouldBlock) {
			t.Fatalf("read: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
	h.register(a, 7, driver.Read)
	h.until("data present at Register", has(7, driver.Readable))
}

// New data gives one Readable event with the registration's token, and no
// other until new data arrives and the user rearms.
func testOneEventPerEdge(t *testing.T, h *harness) {
	a, b := h.pair()
	const tok = driver.Token(0xfeedface_12345678)
	h.register(a, tok, driver.Read)
	h.write(b, []byte("hello"))
	events := make([]driver.Event, 16)
	deadline := time.Now().Add(patience)
	for {
		evs := h.wait(events, 100*time.Millisecond)
		count := 0
		for _, ev := range evs {
			if ev.Token != tok {
				t.Fatalf("event with token %#x, registered only %#x", ev.Token, tok)
			}
			if ev.Readiness&(driver.Writable|driver.WriteClosed) != 0 {
				t.Fatalf("write readiness %b reported for a Read registration", ev.Readiness)
			}
			count++
		}
		if count > 1 {
			t.Fatalf("one edge reported %d times in one Wait: %+v", count, evs)
		}
		if count == 1 {
			if evs[0].Readiness&driver.Readable == 0 {
				t.Fatalf("event %+v lacks Readable", evs[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no event for written data within %v", patience)
		}
	}
	h.quiet("edge already reported, no new data, no rearm", nil)
}

// Data that arrives after the user read to EAGAIN is reported once the user
// rearms, whether it arrived before or after the Rearm.
func testRearmAfterDrain(t *testing.T, h *harness) {
	a, b := h.pair()
	h.register(a, 3, driver.Read)
	h.write(b, []byte("first"))
	h.until("first data", has(3, driver.Readable))
	if n := h.drain(a); n != len("first") {
		t.Fatalf("drained %d bytes, want %d", n, len("first"))
	}
	h.rearm(a, 3, driver.Read)
	h.quiet("drained and rearmed, nothing new", nil)

	// Data after the Rearm.
	h.write(b, []byte("second"))
	h.until("data after Rearm", has(3, driver.Readable))
	h.drain(a)

	// Data between the EAGAIN and the Rearm.
	h.write(b, []byte("third"))
	time.Sleep(10 * time.Millisecond)
	h.rearm(a, 3, driver.Read)
	h.until("data between EAGAIN and Rearm", has(3, driver.Readable))
}

// A non-blocking connect is reported writable once established.
func testWritableAfterConnect(t *testing.T, h *harness) {
	c := h.connect()
	h.register(c, 11, driver.Write)
	seen := h.until("connect completion", has(11, driver.Writable))
	if seen[11]&(driver.Readable|driver.ReadClosed) != 0 {
		t.Fatalf("read readiness %b for a Write registration", seen[11])
	}
	h.accept()
}

// A listener is readable when a connection waits to be accepted.
func testListenerReadable(t *testing.T, h *harness) {
	l, _ := h.listen()
	h.register(l, 5, driver.Read)
	h.quiet("listener with no connection", nil)
	h.connect()
	h.until("pending connection", has(5, driver.Readable))
	if err := h.d.Deregister(l); err != nil {
		t.Fatalf("Deregister: %v", err)
	}
	h.accept()
}

// The peer shutting down its write side is reported as ReadClosed.
func testReadClosedOnShutdown(t *testing.T, h *harness) {
	a, b := h.pair()
	h.register(a, 4, driver.Read)
	if err := shutdownWrite(b); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	h.until("peer shutdown", has(4, driver.ReadClosed))
}

// A connection reset by the peer is reported as WriteClosed and Error.
func testReset(t *testing.T, h *harness) {
	// First make sure the platform delivers a reset at all.
	probe, peer := h.pair()
	h.reset(peer)
	if err := awaitReset(probe); err != nil {
		t.Skipf("this platform does not deliver resets on loopback: %v", err)
	}
	a, b := h.pair()
	h.register(a, 9, driver.Read|driver.Write)
	h.until("writable", has(9, driver.Writable))
	h.reset(b)
	// A user whose I/O fails keeps rearming until it sees the closure, so
	// drivers that emulate edges re-check the socket each round.
	h.untilWith(make([]driver.Event, 8), "reset", func(ev driver.Event) {
		h.rearm(a, 9, driver.Read|driver.Write)
	}, has(9, driver.WriteClosed|driver.Error))
}

// A deregistered fd is never reported, and can be registered again.
func testDeregister(t *testing.T, h *harness) {
	a, b := h.pair()
	h.register(a, 1, driver.Read)
	if err := h.d.Deregister(a); err != nil {
		t.Fatalf("Deregister: %v", err)
	}
	h.write(b, []byte("x"))
	h.quiet("deregistered fd", nil)
	if err := h.d.Deregister(a); !errors.Is(err, driver.ErrNotRegistered) {
		t.Fatalf("second Deregister: %v, want ErrNotRegistered", err)
	}
	h.register(a, 2, driver.Read)
	seen := h.until("registered again", has(2, driver.Readable))
	if seen[1] != 0 {
		t.Fatalf("token of the old registration reported: %+v", seen)
	}
}

// A socket deregistered and closed while another goroutine is blocked in
// Wait is closed for real: the peer sees the end of the stream without
// waiting for that Wait to return. (poll(2) holds a reference to every file
// it polls, which delays the close until the poll returns.)
func testCloseDuringWait(t *testing.T, h *harness) {
	a, b := h.pair()
	h.register(a, 1, driver.Read)
	ch := h.blockingWait(t, make([]driver.Event, 8))
	time.Sleep(20 * time.Millisecond)
	if err := h.d.Deregister(a); err != nil {
		t.Fatalf("Deregister: %v", err)
	}
	h.close(a)
	var buf [8]byte
	// Less than patience, so that a driver at fault fails here rather than
	// in the watchdog of the blocked Wait (whose Wake would release fd).
	limit := patience / 2
	deadline := time.Now().Add(limit)
	for {
		n, err := readSocket(b, buf[:])
		if err == nil && n == 0 {
			break
		}
		if err != nil && !errors.Is(err, errWouldBlock) {
			t.Fatalf("read from the peer of a closed socket: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the peer saw no end of stream within %v of Deregister and close", limit)
		}
		time.Sleep(time.Millisecond)
	}
	if err := h.d.Wake(); err != nil {
		t.Fatalf("Wake: %v", err)
	}
	<-ch
}

// Register, Deregister and Rearm called while another goroutine is blocked
// in Wait take effect in that Wait, with no Wake.
func testChangesDuringWait(t *testing.T, h *harness) {
	a, b := h.pair()
	h.write(b, []byte("x"))
	wantIn := func(what string, ch <-chan []driver.Event, tok driver.Token, r driver.Readiness) {
		t.Helper()
		for _, ev := range <-ch {
			if ev.Token == tok && ev.Readiness&r == r {
				return
			}
		}
		// A Wait may return early (spuriously); one more blocking Wait
		// must then see it.
		h.until(what, has(tok, r))
	}
	// reregister replaces a's registration with another token and interest.
	reregister := func(tok driver.Token, in driver.Interest) {
		t.Helper()
		if err := h.d.Deregister(a); err != nil {
			t.Fatalf("Deregister: %v", err)
		}
		h.register(a, tok, in)
	}

	events := make([]driver.Event, 8)
	ch := h.blockingWait(t, events)
	time.Sleep(20 * time.Millisecond)
	h.register(a, 1, driver.Read)
	wantIn("Register during Wait", ch, 1, driver.Readable)

	ch = h.blockingWait(t, events)
	time.Sleep(20 * time.Millisecond)
	reregister(2, driver.Write)
	wantIn("Deregister and Register during Wait", ch, 2, driver.Writable)

	reregister(3, driver.Read)
	h.until("readable", has(3, driver.Readable))
	// The edge is reported and the data read to EAGAIN, but not rearmed:
	// a driver that emulates edges does not watch the fd in the next Wait
	// until the Rearm reaches it.
	h.drain(a)
	ch = h.blockingWait(t, events)
	time.Sleep(20 * time.Millisecond)
	h.write(b, []byte("y"))
	time.Sleep(10 * time.Millisecond)
	h.rearm(a, 3, driver.Read)
	wantIn("data and Rearm during Wait", ch, 3, driver.Readable)
}

// A Wake from another goroutine ends a Wait with no time limit.
func testWakeEndsWait(t *testing.T, h *harness) {
	a, _ := h.pair()
	h.register(a, 1, driver.Read)
	for range 3 {
		ch := h.blockingWait(t, make([]driver.Event, 8))
		time.Sleep(20 * time.Millisecond)
		if err := h.d.Wake(); err != nil {
			t.Fatalf("Wake: %v", err)
		}
		for _, ev := range <-ch {
			t.Fatalf("Wake on an idle driver returned event %+v", ev)
		}
	}
}

// A Wake that comes before the Wait makes that Wait return.
func testWakeBeforeWait(t *testing.T, h *harness) {
	if err := h.d.Wake(); err != nil {
		t.Fatalf("Wake: %v", err)
	}
	start := time.Now()
	h.wait(make([]driver.Event, 8), patience)
	if took := time.Since(start); took >= patience {
		t.Fatalf("Wait after Wake blocked until its timeout (%v)", took)
	}
}

// Many Wakes before a Wait coalesce: a few Waits return early, then Wait
// blocks until its timeout again.
func testWakeCoalesces(t *testing.T, h *harness) {
	var wg sync.WaitGroup
	wakeStorm(t, h.d, &wg, 4, 500)
	wg.Wait()
	const timeout = 100 * time.Millisecond
	events := make([]driver.Event, 8)
	early := 0
	for {
		start := time.Now()
		h.wait(events, timeout)
		if time.Since(start) >= timeout {
			break
		}
		early++
		if early > 2 {
			t.Fatalf("2,000 Wakes made %d Waits return early; want them coalesced", early)
		}
	}
	if early == 0 {
		t.Fatalf("2,000 Wakes did not end any Wait")
	}
}

// wakeStorm starts goroutines that each call d.Wake n times, counted in wg.
func wakeStorm(t *testing.T, d driver.Driver, wg *sync.WaitGroup, goroutines, n int) {
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n {
				if err := d.Wake(); err != nil {
					t.Errorf("Wake: %v", err)
					return
				}
			}
		}()
	}
}

// Timeouts are never early, whatever the facility's resolution, and not
// grossly late.
func testTimeout(t *testing.T, h *harness) {
	a, _ := h.pair()
	h.register(a, 1, driver.Read)
	events := make([]driver.Event, 8)
	for _, d := range []time.Duration{time.Microsecond, time.Millisecond, 1500 * time.Microsecond, 15 * time.Millisecond, 60 * time.Millisecond} {
		start := time.Now()
		evs := h.wait(events, d)
		took := time.Since(start)
		if len(evs) != 0 {
			t.Fatalf("Wait(%v) on an idle socket returned %+v", d, evs)
		}
		if took < d {
			t.Fatalf("Wait(%v) returned after %v: early", d, took)
		}
		if took > d+5*time.Second {
			t.Fatalf("Wait(%v) returned after %v: grossly late", d, took)
		}
	}
}

// Signals arriving during Wait (EINTR) neither end it early nor fail it.
func testSignals(t *testing.T, h *harness) {
	if errors.Is(interrupt(), errors.ErrUnsupported) {
		t.Skip("no signals on this platform")
	}
	a, _ := h.pair()
	h.register(a, 1, driver.Read)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Microsecond):
				if err := interrupt(); err != nil {
					t.Errorf("signal: %v", err)
					return
				}
			}
		}
	}()
	defer func() { close(stop); <-done }()
	events := make([]driver.Event, 8)
	for _, d := range []time.Duration{20 * time.Millisecond, 100 * time.Millisecond} {
		start := time.Now()
		if evs := h.wait(events, d); len(evs) != 0 {
			t.Fatalf("Wait(%v) under signals returned %+v", d, evs)
		}
		if took := time.Since(start); took < d {
			t.Fatalf("Wait(%v) under signals returned after %v: early", d, took)
		}
	}
	ch := h.blockingWait(t, events)
	time.Sleep(20 * time.Millisecond)
	if err := h.d.Wake(); err != nil {
		t.Fatalf("Wake: %v", err)
	}
	<-ch
}

// A zero timeout polls and returns, ready events or not.
func testZeroTimeout(t *testing.T, h *harness) {
	a, b := h.pair()
	h.register(a, 1, driver.Read)
	events := make([]driver.Event, 8)
	for range 100 {
		start := time.Now()
		h.wait(events, 0)
		if took := time.Since(start); took > time.Second {
			t.Fatalf("Wait(0) blocked for %v", took)
		}
	}
	h.write(b, []byte("x"))
	deadline := time.Now().Add(patience)
	for {
		if evs := h.wait(events, 0); len(evs) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Wait(0) never reported ready data")
		}
		runtime.Gosched()
	}
}

// Ready events that do not fit the slice are reported by later Waits.
func testSmallSlice(t *testing.T, h *harness) {
	const n = 10
	for _, size := range []int{1, 3} {
		base := driver.Token(100 * size)
		for i := range n {
			a, b := h.pair()
			h.register(a, base+driver.Token(i), driver.Read)
			h.write(b, []byte("x"))
		}
		h.untilWith(make([]driver.Event, size), "every token through a small slice", nil,
			func(seen map[driver.Token]driver.Readiness) bool {
				for i := range n {
					if seen[base+driver.Token(i)]&driver.Readable == 0 {
						return false
					}
				}
				return true
			})
	}
}

// A thousand registered sockets are all reported, across rounds.
func testManySockets(t *testing.T, h *harness) {
	const n = 1000
	ok, err := ensureDescriptors(2*n + 64)
	if err != nil {
		t.Fatalf("descriptor limit: %v", err)
	}
	if !ok {
		t.Skipf("the hard descriptor limit is below %d", 2*n+64)
	}
	as := make([]driver.FD, n)
	bs := make([]driver.FD, n)
	for i := range n {
		as[i], bs[i] = h.pair()
		h.register(as[i], driver.Token(i), driver.Read)
	}
	h.quiet("a thousand idle sockets", nil)
	for round := range 2 {
		// Round 0 makes every socket readable, round 1 every other one.
		want := make(map[driver.Token]bool)
		for i := round; i < n; i += 1 + round {
			h.write(bs[i], []byte("x"))
			want[driver.Token(i)] = true
		}
		h.untilWith(make([]driver.Event, 256), "every ready socket of a thousand", nil,
			func(seen map[driver.Token]driver.Readiness) bool {
				for tok := range want {
					if seen[tok]&driver.Readable == 0 {
						return false
					}
				}
				return true
			})
		for i := range n {
			h.drain(as[i])
			h.rearm(as[i], driver.Token(i), driver.Read)
		}
	}
}

// Wakes, registrations, rearms and deregistrations from several goroutines
// while one goroutine loops in Wait: no error, no race, no event with a
// token never used, and the driver still works afterwards.
func testStorms(t *testing.T, h *harness) {
	const socks = 16
	as := make([]driver.FD, socks)
	for i := range socks {
		var b driver.FD
		as[i], b = h.pair()
		h.write(b, []byte("x")) // every socket ready: registrations fire
	}
	const maxToken = 1 << 20
	// stop is set after the storms and read by the waiter after each Wait;
	// the Wake that follows the Store makes that Wait return, and the
	// atomic's sequential consistency makes the waiter see true then.
	var stop atomic.Bool
	waiterDone := make(chan struct{})
	go func() {
		defer close(waiterDone)
		buf := make([]driver.Event, 8)
		for !stop.Load() {
			n, err := h.d.Wait(buf, -1)
			if err != nil {
				t.Errorf("Wait: %v", err)
				return
			}
			for _, ev := range buf[:n] {
				if ev.Token >= maxToken {
					t.Errorf("event with a token never used: %+v", ev)
				}
			}
		}
	}()

	var wg sync.WaitGroup
	wakeStorm(t, h.d, &wg, 2, 2000)
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each goroutine owns half of the sockets, as a registration
			// belongs to one owner at a time.
			for round := range 200 {
				for i := g; i < socks; i += 2 {
					tok := driver.Token(round*socks + i)
					steps := []struct {
						name string
						err  error
					}{
						{"Register", h.d.Register(as[i], tok, driver.Read)},
						{"Rearm", h.d.Rearm(as[i], tok, driver.Read)},
						{"Deregister", h.d.Deregister(as[i])},
						{"Register again", h.d.Register(as[i], tok+1, driver.Read|driver.Write)},
						{"Deregister again", h.d.Deregister(as[i])},
					}
					for _, s := range steps {
						if s.err != nil {
							t.Errorf("%s during Wait: %v", s.name, s.err)
							return
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	stop.Store(true)
	if err := h.d.Wake(); err != nil {
		t.Fatalf("Wake: %v", err)
	}
	<-waiterDone
	if t.Failed() {
		return
	}
	// The driver still reports what it should.
	h.register(as[0], 1<<30, driver.Read)
	h.until("after the storms", has(1<<30, driver.Readable))
}

// Bad arguments give errors, never panics.
func testBadInput(t *testing.T, h *harness) {
	d := h.d
	a, _ := h.pair()
	other, _ := h.pair()
	closedFD := h.connect()
	h.close(closedFD)

	check := func(what string, err error, want ...error) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s: no error", what)
		}
		for _, w := range want {
			if errors.Is(err, w) {
				return
			}
		}
		if len(want) > 0 {
			t.Fatalf("%s: %v, want one of %v", what, err, want)
		}
	}
	invalid := []error{driver.ErrInvalid, driver.ErrNotSupported}
	check("Register of an invalid fd", d.Register(invalidFD, 1, driver.Read), invalid...)
	check("Register of a closed fd", d.Register(closedFD, 1, driver.Read), invalid...)
	check("Register with empty interest", d.Register(a, 1, 0), driver.ErrInvalid)
	check("Register with unknown interest bits", d.Register(a, 1, 1<<5), driver.ErrInvalid)
	check("Register with the reserved token", d.Register(a, driver.ReservedToken, driver.Read), driver.ErrInvalid)
	check("Rearm of an unregistered fd", d.Rearm(other, 1, driver.Read), driver.ErrNotRegistered)
	check("Deregister of an unregistered fd", d.Deregister(other), driver.ErrNotRegistered)
	check("Rearm of an invalid fd", d.Rearm(invalidFD, 1, driver.Read), driver.ErrNotRegistered, driver.ErrInvalid)
	check("Deregister of an invalid fd", d.Deregister(invalidFD), driver.ErrNotRegistered, driver.ErrInvalid)
	if _, err := d.Wait(nil, 0); err == nil || !errors.Is(err, driver.ErrInvalid) {
		t.Fatalf("Wait with no room for events: %v, want ErrInvalid", err)
	}

	h.register(a, 1, driver.Read)
	check("double Register", d.Register(a, 2, driver.Read), driver.ErrRegistered)
	check("Rearm with empty interest", d.Rearm(a, 1, 0), driver.ErrInvalid)
	// The registration survives the rejected calls.
	h.quiet("after rejected calls", nil)
	if err := d.Deregister(a); err != nil {
		t.Fatalf("Deregister: %v", err)
	}
}

// After Close every call fails with ErrClosed; Close twice too.
func testUseAfterClose(t *testing.T, h *harness) {
	a, _ := h.pair()
	h.register(a, 1, driver.Read)
	name := h.d.Name()
	if err := h.d.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	d := h.d
	if _, err := d.Wait(make([]driver.Event, 4), 0); !errors.Is(err, driver.ErrClosed) {
		t.Errorf("Wait after Close: %v", err)
	}
	for what, err := range map[string]error{
		"Register":   d.Register(a, 2, driver.Read),
		"Rearm":      d.Rearm(a, 2, driver.Read),
		"Deregister": d.Deregister(a),
		"Wake":       d.Wake(),
		"Close":      d.Close(),
	} {
		if !errors.Is(err, driver.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", what, err)
		}
	}
	if d.Name() != name {
		t.Errorf("Name after Close: %q, want %q", d.Name(), name)
	}
}

// Wakes from other goroutines racing Close neither fail otherwise than with
// ErrClosed nor touch released resources (the race detector and the
// system's answers would tell).
func testWakeRacesClose(t *testing.T, h *harness) {
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				err := h.d.Wake()
				if errors.Is(err, driver.ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("Wake racing Close: %v", err)
					return
				}
				runtime.Gosched()
			}
		}()
	}
	// Let the Wakes get going, draining them so that some write again.
	events := make([]driver.Event, 8)
	for range 20 {
		h.wait(events, 0)
	}
	if err := h.d.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	wg.Wait()
}
