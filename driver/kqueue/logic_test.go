//go:build unix

package kqueue

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/internal/leakcheck"
)

// The three kinds of kqueue the driver meets.
var featureSets = []struct {
	name string
	feat features
}{
	{"user+receipt", features{userFilter: true, receipt: true}}, // darwin, freebsd, dragonfly
	{"pipe+receipt", features{receipt: true}},                   // openbsd
	{"pipe", features{}},                                        // netbsd
}

func openFake(t *testing.T, feat features) (*poller, *fakeKernel) {
	t.Helper()
	k := newFake(feat)
	d, err := open(k, feat)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if !d.closed.Load() {
			d.Close()
		}
	})
	return d, k
}

// forEach runs fn as a subtest for every feature set.
func forEach(t *testing.T, fn func(t *testing.T, d *poller, k *fakeKernel)) {
	for _, fs := range featureSets {
		t.Run(fs.name, func(t *testing.T) {
			leakcheck.Check(t)
			d, k := openFake(t, fs.feat)
			fn(t, d, k)
		})
	}
}

func wait(t *testing.T, d *poller, size int, timeout time.Duration) []driver.Event {
	t.Helper()
	events := make([]driver.Event, size)
	n, err := d.Wait(events, timeout)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	return events[:n]
}

// waitAsync runs Wait(-1) on a goroutine and returns its result channel.
func waitAsync(t *testing.T, d *poller) <-chan []driver.Event {
	ch := make(chan []driver.Event, 1)
	go func() {
		events := make([]driver.Event, 8)
		n, err := d.Wait(events, -1)
		if err != nil {
			t.Errorf("Wait: %v", err)
		}
		ch <- events[:n]
	}()
	return ch
}

func receive(t *testing.T, ch <-chan []driver.Event) []driver.Event {
	t.Helper()
	select {
	case evs := <-ch:
		return evs
	case <-time.After(10 * time.Second):
		t.Fatal("blocked Wait did not return")
		return nil
	}
}

func TestReadiness(t *testing.T) {
	leakcheck.Check(t)
	const rw = driver.Read | driver.Write
	cases := []struct {
		rec      kev
		interest driver.Interest
		want     driver.Readiness
		ok       bool
	}{
		{kev{filter: filterRead}, driver.Read, driver.Readable, true},
		{kev{filter: filterRead}, driver.Write, 0, false},
		{kev{filter: filterWrite}, rw, driver.Writable, true},
		{kev{filter: filterWrite}, driver.Read, 0, false},
		{kev{filter: filterRead, flags: evEOF}, rw, driver.Readable | driver.ReadClosed, true},
		{kev{filter: filterWrite, flags: evEOF}, rw, driver.Writable | driver.WriteClosed, true},
		{kev{filter: filterRead, flags: evEOF, fflags: uint32(unix.ECONNRESET)}, driver.Read,
			driver.Readable | driver.ReadClosed | driver.Error, true},
		{kev{filter: filterWrite, flags: evEOF, fflags: uint32(unix.EPIPE)}, driver.Write,
			driver.Writable | driver.WriteClosed | driver.Error, true},
		{kev{filter: filterRead, flags: evError, data: int64(unix.EBADF)}, driver.Read, driver.Error, true},
		{kev{filter: filterWrite, flags: evError, data: int64(unix.EBADF)}, driver.Write, driver.Error, true},
		{kev{filter: filterRead, flags: evError, data: int64(unix.ENOENT)}, driver.Read, 0, false},
		{kev{filter: filterUser}, rw, 0, false},
	}
	for _, c := range cases {
		got, ok := readiness(c.rec, c.interest)
		if got != c.want || ok != c.ok {
			t.Errorf("readiness(%+v, %d) = %b, %v; want %b, %v", c.rec, c.interest, got, ok, c.want, c.ok)
		}
	}
}

// Register answers at once, carrying the queued changes before its own;
// Deregister waits for the next Wait's kevent call.
func TestChangesBatched(t *testing.T) {
	forEach(t, func(t *testing.T, d *poller, k *fakeKernel) {
		a, b := k.socket(), k.socket()
		before, _ := k.snapshot()
		if err := d.Register(a, 1, driver.Read|driver.Write); err != nil {
			t.Fatal(err)
		}
		if err := d.Deregister(a); err != nil {
			t.Fatal(err)
		}
		calls, _ := k.snapshot()
		if got := len(calls) - len(before); got != 1 {
			t.Fatalf("Register, Deregister made %d kevent calls, want 1 (Register's)", got)
		}
		if err := d.Register(b, 3, driver.Write); err != nil {
			t.Fatal(err)
		}
		calls, _ = k.snapshot()
		last := calls[len(calls)-1].changes
		want := []kev{
			{ident: uint64(a), filter: filterRead, flags: evDelete},
			{ident: uint64(a), filter: filterWrite, flags: evDelete},
			{ident: uint64(b), filter: filterWrite, flags: evAdd | evClear},
		}
		if len(last) != len(want) {
			t.Fatalf("Register carried %d changes, want %d: %+v", len(last), len(want), last)
		}
		for i := range want {
			if last[i].ident != want[i].ident || last[i].filter != want[i].filter ||
				last[i].flags&^evReceipt != want[i].flags {
				t.Fatalf("change %d = %+v, want %+v", i, last[i], want[i])
			}
		}
		if err := d.Deregister(b); err != nil {
			t.Fatal(err)
		}
		n := len(calls)
		wait(t, d, 8, 0)
		calls, _ = k.snapshot()
		if len(calls) != n+1 || len(calls[n].changes) != 1 {
			t.Fatalf("Wait(0) after Deregister: %d calls, the last carrying %+v; want one call with 1 change",
				len(calls)-n, calls[len(calls)-1].changes)
		}
	})
}

// The kernel's refusal of Register's change is Register's error, and the
// registration is undone.
func TestRegisterRefused(t *testing.T) {
	forEach(t, func(t *testing.T, d *poller, k *fakeKernel) {
		a := k.socket()
		k.close(a)
		err := d.Register(a, 1, driver.Read)
		if !errors.Is(err, driver.ErrInvalid) || !errors.Is(err, unix.EBADF) {
			t.Fatalf("Register of a closed fd: %v, want ErrInvalid and EBADF", err)
		}
		if err := d.Deregister(a); !errors.Is(err, driver.ErrNotRegistered) {
			t.Fatalf("Deregister after a refused Register: %v, want ErrNotRegistered", err)
		}
		if evs := wait(t, d, 8, 0); len(evs) != 0 {
			t.Fatalf("events after a refused Register: %+v", evs)
		}
	})
}

// A queued change the kernel refuses comes back as an Error event: a
// Register queued behind the deletion of the same descriptor that a blocked
// Wait carries, the descriptor having been closed meanwhile.
func TestQueuedChangeRefused(t *testing.T) {
	forEach(t, func(t *testing.T, d *poller, k *fakeKernel) {
		a := k.socket()
		if err := d.Register(a, 7, driver.Read); err != nil {
			t.Fatal(err)
		}
		if err := d.Deregister(a); err != nil {
			t.Fatal(err)
		}
		ch := waitAsync(t, d) // carries the deletion of a's filter
		k.waitBlocked(t)
		k.close(a) // closed while registering: the user's mistake
		if err := d.Register(a, 8, driver.Read|driver.Write); err != nil {
			t.Fatalf("Register queued during Wait: %v", err)
		}
		evs := receive(t, ch)
		if len(evs) == 0 || evs[0] != (driver.Event{Token: 8, Readiness: driver.Error}) {
			t.Fatalf("refused Register reported %+v, want Error events for token 8", evs)
		}
	})
}

// EV_CLEAR: one event per edge; EOF and socket errors are translated.
func TestEdges(t *testing.T) {
	forEach(t, func(t *testing.T, d *poller, k *fakeKernel) {
		a := k.socket()
		if err := d.Register(a, 5, driver.Read|driver.Write); err != nil {
			t.Fatal(err)
		}
		k.set(a, func(f *fakeFile) { f.readable = true })
		evs := wait(t, d, 8, time.Second)
		if len(evs) != 1 || evs[0] != (driver.Event{Token: 5, Readiness: driver.Readable}) {
			t.Fatalf("readable: %+v", evs)
		}
		if evs := wait(t, d, 8, 0); len(evs) != 0 {
			t.Fatalf("the same edge again: %+v", evs)
		}
		if err := d.Rearm(a, 5, driver.Read); err != nil {
			t.Fatal(err)
		}
		k.set(a, func(f *fakeFile) { f.eof, f.soError = true, uint32(unix.ECONNRESET) })
		got := driver.Readiness(0)
		for _, ev := range wait(t, d, 8, time.Second) {
			got |= ev.Readiness
		}
		want := driver.Readable | driver.Writable | driver.ReadClosed | driver.WriteClosed | driver.Error
		if got != want {
			t.Fatalf("reset: %b, want %b", got, want)
		}
	})
}

// Events that do not fit stay for the next Wait, and do not come at all once
// deregistered.
func TestOverflowKept(t *testing.T) {
	forEach(t, func(t *testing.T, d *poller, k *fakeKernel) {
		fds := make([]int, 5)
		for i := range fds {
			fds[i] = k.socket()
			if err := d.Register(fds[i], driver.Token(i), driver.Read); err != nil {
				t.Fatal(err)
			}
			k.set(fds[i], func(f *fakeFile) { f.readable = true })
		}
		if evs := wait(t, d, 2, time.Second); len(evs) != 2 || evs[0].Token != 0 || evs[1].Token != 1 {
			t.Fatalf("first Wait: %+v", evs)
		}
		if err := d.Deregister(fds[3]); err != nil {
			t.Fatal(err)
		}
		seen := map[driver.Token]int{}
		for range 4 {
			for _, ev := range wait(t, d, 1, 0) {
				seen[ev.Token]++
			}
		}
		if seen[2] != 1 || seen[4] != 1 || seen[3] != 0 {
			t.Fatalf("later Waits saw %v; want tokens 2 and 4 once", seen)
		}
	})
}

// More queued changes than the events slice holds: the kernel still finds a
// slot for every refusal.
func TestManyChangesSmallSlice(t *testing.T) {
	forEach(t, func(t *testing.T, d *poller, k *fakeKernel) {
		fds := make([]int, 6)
		for i := range fds {
			fds[i] = k.socket()
			if err := d.Register(fds[i], driver.Token(i), driver.Read); err != nil {
				t.Fatal(err)
			}
			k.close(fds[i])
			if err := d.Deregister(fds[i]); err != nil {
				t.Fatal(err)
			}
		}
		if evs := wait(t, d, 1, 0); len(evs) != 0 {
			t.Fatalf("refused deletions reported: %+v", evs)
		}
		if k.overflow {
			t.Fatal("a refused change found no slot in the event list")
		}
	})
}

// Register and Deregister during a blocked Wait take effect in it.
func TestChangesDuringBlockedWait(t *testing.T) {
	forEach(t, func(t *testing.T, d *poller, k *fakeKernel) {
		a, b := k.socket(), k.socket()
		k.set(a, func(f *fakeFile) { f.readable = true })
		ch := waitAsync(t, d)
		k.waitBlocked(t)
		if err := d.Register(a, 1, driver.Read); err != nil {
			t.Fatal(err)
		}
		if evs := receive(t, ch); len(evs) != 1 || evs[0].Token != 1 {
			t.Fatalf("Register during Wait: %+v", evs)
		}

		if err := d.Register(b, 2, driver.Read); err != nil {
			t.Fatal(err)
		}
		ch = waitAsync(t, d)
		k.waitBlocked(t)
		k.set(b, func(f *fakeFile) { f.writable = true })
		if err := d.Deregister(b); err != nil {
			t.Fatal(err)
		}
		if err := d.Register(b, 3, driver.Write); err != nil {
			t.Fatal(err)
		}
		if evs := receive(t, ch); len(evs) != 1 || evs[0] != (driver.Event{Token: 3, Readiness: driver.Writable}) {
			t.Fatalf("Deregister and Register during Wait: %+v", evs)
		}

		ch = waitAsync(t, d)
		k.waitBlocked(t)
		if err := d.Deregister(b); err != nil {
			t.Fatal(err)
		}
		k.set(b, func(f *fakeFile) { f.readable = true })
		if err := d.Wake(); err != nil {
			t.Fatal(err)
		}
		if evs := receive(t, ch); len(evs) != 0 {
			t.Fatalf("Deregister during Wait: %+v", evs)
		}
	})
}

// A change of a descriptor whose older change the blocked Wait carries is
// queued behind it, not applied ahead of it, and the Wait does not return
// for it: a descriptor number deregistered, closed, reused and registered
// again while a Wait that deletes the old filters blocks.
func TestReuseDuringWaitKeepsOrder(t *testing.T) {
	forEach(t, func(t *testing.T, d *poller, k *fakeKernel) {
		a := k.socket()
		if err := d.Register(a, 1, driver.Read); err != nil {
			t.Fatal(err)
		}
		if err := d.Deregister(a); err != nil {
			t.Fatal(err)
		}
		ch := waitAsync(t, d) // carries the deletion of a's filter
		k.waitBlocked(t)
		if err := d.Register(a, 2, driver.Read); err != nil {
			t.Fatal(err)
		}
		k.set(a, func(f *fakeFile) { f.readable = true })
		if evs := receive(t, ch); len(evs) != 1 || evs[0] != (driver.Event{Token: 2, Readiness: driver.Readable}) {
			t.Fatalf("Wait returned %+v, want the new registration's event", evs)
		}
	})
}

// Wakes coalesce into one system call until Wait returns, and each Wait
// returns for them once.
func TestWakeCoalesces(t *testing.T) {
	forEach(t, func(t *testing.T, d *poller, k *fakeKernel) {
		fired := func() int {
			calls, _ := k.snapshot()
			n := 0
			for _, c := range calls {
				for _, ch := range c.changes {
					if ch.fflags&noteTrigger != 0 {
						n++
					}
				}
			}
			k.mu.Lock()
			defer k.mu.Unlock()
			return n + k.writes
		}
		for round := 1; round <= 3; round++ {
			for range 100 {
				if err := d.Wake(); err != nil {
					t.Fatal(err)
				}
			}
			if got := fired(); got != round {
				t.Fatalf("round %d: the wake-up fired %d times in all, want %d", round, got, round)
			}
			if evs := wait(t, d, 8, 10*time.Second); len(evs) != 0 {
				t.Fatalf("Wait after Wake returned %+v", evs)
			}
			start := time.Now()
			wait(t, d, 8, 20*time.Millisecond)
			if time.Since(start) < 20*time.Millisecond {
				t.Fatalf("round %d: a second Wait returned early", round)
			}
		}
		ch := waitAsync(t, d)
		k.waitBlocked(t)
		if err := d.Wake(); err != nil {
			t.Fatal(err)
		}
		if evs := receive(t, ch); len(evs) != 0 {
			t.Fatalf("woken Wait returned %+v", evs)
		}
	})
}

// An interrupted kevent is retried, and a timer that ends early does not end
// Wait early.
func TestInterruptedAndEarly(t *testing.T) {
	forEach(t, func(t *testing.T, d *poller, k *fakeKernel) {
		k.mu.Lock()
		k.eintr, k.early = 2, 3
		k.mu.Unlock()
		const timeout = 30 * time.Millisecond
		start := time.Now()
		if evs := wait(t, d, 8, timeout); len(evs) != 0 {
			t.Fatalf("idle Wait returned %+v", evs)
		}
		if took := time.Since(start); took < timeout {
			t.Fatalf("Wait(%v) returned after %v", timeout, took)
		}
		k.mu.Lock()
		k.eintr = 2
		k.mu.Unlock()
		a := k.socket()
		if err := d.Register(a, 9, driver.Read); err != nil {
			t.Fatal(err)
		}
		ch := waitAsync(t, d)
		k.waitBlocked(t)
		k.set(a, func(f *fakeFile) { f.readable = true })
		if evs := receive(t, ch); len(evs) != 1 || evs[0].Token != 9 {
			t.Fatalf("Wait after EINTR: %+v", evs)
		}
	})
}

func TestBadInputAndClose(t *testing.T) {
	forEach(t, func(t *testing.T, d *poller, k *fakeKernel) {
		a := k.socket()
		for what, err := range map[string]error{
			"negative fd":    d.Register(-1, 1, driver.Read),
			"empty interest": d.Register(a, 1, 0),
			"unknown bits":   d.Register(a, 1, 1<<4),
		} {
			if !errors.Is(err, driver.ErrInvalid) {
				t.Errorf("%s: %v, want ErrInvalid", what, err)
			}
		}
		if d.wake != nil {
			if err := d.Register(d.wake.Fd(), 1, driver.Read); !errors.Is(err, driver.ErrInvalid) {
				t.Errorf("the wake-up descriptor: %v, want ErrInvalid", err)
			}
		}
		if _, err := d.Wait(nil, 0); !errors.Is(err, driver.ErrInvalid) {
			t.Errorf("Wait(nil): %v, want ErrInvalid", err)
		}
		if err := d.Register(a, 1, driver.Read); err != nil {
			t.Fatal(err)
		}
		if err := d.Register(a, 1, driver.Read); !errors.Is(err, driver.ErrRegistered) {
			t.Errorf("double Register: %v", err)
		}
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		if _, open := k.snapshot(); open != 1 {
			t.Errorf("after Close %d descriptors are open, want 1 (the socket)", open)
		}
		// drivertest checks every call after Close on the real kqueue; here
		// only the calls that touch the released descriptors.
		if err := d.Wake(); !errors.Is(err, driver.ErrClosed) {
			t.Errorf("Wake after Close: %v, want ErrClosed", err)
		}
		if err := d.Register(a, 2, driver.Read); !errors.Is(err, driver.ErrClosed) {
			t.Errorf("Register after Close: %v, want ErrClosed", err)
		}
		if _, err := d.Wait(make([]driver.Event, 1), 0); !errors.Is(err, driver.ErrClosed) {
			t.Errorf("Wait after Close: %v", err)
		}
	})
}
