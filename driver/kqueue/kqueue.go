//go:build unix

// Package kqueue is libasync's readiness driver for darwin, freebsd, netbsd,
// openbsd and dragonfly, on kqueue(2). Importing it makes the driver openable
// as "kqueue" (the default on those systems).
//
// Every direction is an EV_CLEAR filter, so events are native edges and Rearm
// costs nothing. An EV_EOF on the read filter is ReadClosed, on the write
// filter WriteClosed; a socket error (EV_EOF with an error in fflags, or
// EV_ERROR) is Error. Wait is woken by an EVFILT_USER event where the system
// has one (darwin, freebsd, dragonfly) and through a wake-up descriptor (a
// pipe, see package wakefd) elsewhere (netbsd, openbsd); calls to Wake
// coalesce through an atomic flag until Wait returns.
//
// # Batching
//
// Deregister does not call the kernel: it appends to a change list that the
// next Wait (or Register) hands to kevent together with its own request, so
// it costs no system call of its own. Register applies its changes at once,
// with the queued ones before them, so that it can return the kernel's
// answer (EBADF for a descriptor that is not open).
//
// Changes made while a Wait is blocked must take effect in that Wait. They
// are applied at once with their own kevent call unless the Wait carries, or
// the queue holds, a change of the same descriptor: applying at once could
// then overtake that older change in the kernel (a Deregister of a
// descriptor number that was closed and reused, then a Register of the new
// one). Such a change is queued and the Wait is woken internally to submit
// it; that wake-up is never reported to the caller, and a Register queued so
// cannot return the kernel's answer, which then comes as an Error event.
// Changes applied at once use EV_RECEIPT, so that the call takes no event
// from the queue; where the system lacks it (netbsd), events such a call
// takes are kept for the Wait, which is woken for them.
//
// A queued change the kernel refuses is reported by a later Wait as an Error
// event for the registration's token; the user's next I/O on the descriptor
// then returns the system's error.
package kqueue

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/libasync/libasync/driver"
)

// name is the name the driver is provided under.
const name = "kqueue"

// filter is a kqueue filter, in a form independent of the system's numbers
// (netbsd numbers its filters differently from the others).
type filter int8

const (
	filterRead filter = iota + 1
	filterWrite
	filterUser
)

// The flags of a kevent record. Every kqueue system uses these values; the
// per-system file checks that at compile time.
const (
	evAdd       = 0x1
	evDelete    = 0x2
	evClear     = 0x20
	evReceipt   = 0x40
	evError     = 0x4000
	evEOF       = 0x8000
	noteTrigger = 0x01000000 // fflags of an EVFILT_USER change that fires it
)

// kev is a kevent record in portable form: the driver's logic works on these
// and the system's seam converts them to and from unix.Kevent_t.
type kev struct {
	ident  uint64
	filter filter
	flags  uint16
	fflags uint32
	data   int64
}

// scratch holds a seam's conversion buffers for one caller at a time.
type scratch struct{ native any }

// kernel is the seam between the driver's logic and the system: the real one
// wraps the system calls, the unit tests' one is a kqueue simulated in Go.
type kernel interface {
	// kqueue creates a kqueue, close-on-exec.
	kqueue() (int, error)
	// kevent is kevent(2) on portable records; a nil timeout blocks. s holds
	// conversion buffers and is used by one call at a time.
	kevent(kq int, changes, events []kev, timeout *time.Duration, s *scratch) (int, error)
	// wakeup creates the wake-up descriptor of the systems without
	// EVFILT_USER.
	wakeup() (wakeup, error)
	close(fd int) error
}

// wakeup is a descriptor that Wake makes readable (a *wakefd.FD on the real
// system).
type wakeup interface {
	Fd() int
	Wake() error
	Drain()
	Close() error
}

// features says what a system's kqueue offers beyond the common core.
type features struct {
	userFilter bool // EVFILT_USER with NOTE_TRIGGER; else a wakeup wakes Wait
	receipt    bool // EV_RECEIPT; else changes during a blocked Wait wake it
}

// registration is what the driver knows of a registered descriptor.
type registration struct {
	token    driver.Token
	interest driver.Interest
}

// poller implements driver.Driver on a kernel.
type poller struct {
	k    kernel
	feat features
	kq   int
	wake wakeup // nil with EVFILT_USER

	// woken is set by the Wake that fires the wake-up and cleared by Wait
	// when it returns; while set, Wake makes no system call. Sequentially
	// consistent atomics suffice: a Wake that finds it set happened before
	// the clearing, hence before that Wait returned, which is all a Wake
	// promises; a Wake after the clearing sets it again and fires.
	woken atomic.Bool

	// wakeMu serialises firing the wake-up (which uses fireBuf) and keeps
	// Close from closing the descriptors it uses under it: fire checks
	// closed under it, and Close stores closed before it takes it. Order:
	// mu, then wakeMu.
	wakeMu  sync.Mutex
	fireBuf scratch
	fireKev []kev // the EVFILT_USER trigger, built once

	mu sync.Mutex
	// closed is stored under mu; Wake reads it without, to fail early.
	closed    atomic.Bool
	regs      map[int]registration
	pending   []kev // changes for the next Wait's kevent call
	spare     []kev // the previous change list, reused
	waiting   bool  // a Wait's kevent call may block now
	inflight  []kev // the changes that call carries
	nudged    bool  // the wake-up was fired for changes, not for Wake
	raw       []kev // records taken from the kernel, not yet delivered
	applyBuf  scratch
	applyRecv []kev

	// Owned by Wait, which never runs concurrently with itself.
	waitBuf   scratch
	evBuf     []kev
	remaining time.Duration
}

// noTimeout is the timeout of the kevent calls that must not block; it is
// only ever read.
var noTimeout time.Duration

// open creates a driver on k.
func open(k kernel, feat features) (*poller, error) {
	kq, err := k.kqueue()
	if err != nil {
		return nil, fmt.Errorf("kqueue: %w", err)
	}
	d := &poller{k: k, feat: feat, kq: kq, regs: make(map[int]registration)}
	var source kev
	if feat.userFilter {
		source = kev{filter: filterUser, flags: evAdd | evClear}
		d.fireKev = []kev{{filter: filterUser, fflags: noteTrigger}}
	} else {
		if d.wake, err = k.wakeup(); err != nil {
			k.close(kq)
			return nil, fmt.Errorf("kqueue: wake-up fd: %w", err)
		}
		source = kev{ident: uint64(d.wake.Fd()), filter: filterRead, flags: evAdd | evClear}
	}
	// A new kqueue holds no events, so this call returns only the change's
	// error, if any, whether or not EV_RECEIPT exists.
	recv := make([]kev, 1)
	n, err := d.keventRetry([]kev{source}, recv, new(time.Duration), &d.applyBuf)
	if err == nil && n == 1 && recv[0].flags&evError != 0 && recv[0].data != 0 {
		err = unix.Errno(recv[0].data)
	}
	if err != nil {
		d.releaseFDs()
		return nil, fmt.Errorf("kqueue: registering the wake-up: %w", err)
	}
	return d, nil
}

// keventRetry calls kevent, retrying when a signal interrupts it. Only the
// calls that do not block use it: a blocking Wait recomputes its timeout.
func (d *poller) keventRetry(changes, events []kev, timeout *time.Duration, s *scratch) (int, error) {
	for {
		n, err := d.k.kevent(d.kq, changes, events, timeout, s)
		if !errors.Is(err, unix.EINTR) {
			return n, err
		}
		// The kernel applies a change list before it can be interrupted
		// (only the wait for events sleeps), so it is not submitted again.
		changes = nil
	}
}

// releaseFDs closes the kqueue and the wake-up descriptor.
func (d *poller) releaseFDs() error {
	err := d.k.close(d.kq)
	if d.wake != nil {
		err = errors.Join(err, d.wake.Close())
	}
	return err
}

// Name returns "kqueue".
func (d *poller) Name() string { return name }

// PollFD returns the kqueue descriptor (driver.Pollable).
func (d *poller) PollFD() driver.FD { return d.kq }

// checkArgs validates the arguments of op, refusing the wake-up descriptor
// too: take would swallow its records.
func (d *poller) checkArgs(op string, fd int, token driver.Token, interest driver.Interest) error {
	if err := driver.CheckArgs(name, op, fd, token, interest); err != nil {
		return err
	}
	if d.wake != nil && fd == d.wake.Fd() {
		return fmt.Errorf("kqueue: %s fd %d: the wake-up descriptor: %w", op, fd, driver.ErrInvalid)
	}
	return nil
}

// Register starts watching fd. Its changes go to the kernel with the next
// Wait, or at once if a Wait is blocked.
func (d *poller) Register(fd driver.FD, token driver.Token, interest driver.Interest) error {
	if err := d.checkArgs("register", fd, token, interest); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed.Load() {
		return driver.ClosedError(name, "register")
	}
	if _, ok := d.regs[fd]; ok {
		return fmt.Errorf("kqueue: fd %d: %w", fd, driver.ErrRegistered)
	}
	d.regs[fd] = registration{token, interest}
	if err := d.change(fd, interest, true); err != nil {
		delete(d.regs, fd)
		if errors.Is(err, unix.EBADF) {
			return fmt.Errorf("kqueue: fd %d: %w: %w", fd, driver.ErrInvalid, err)
		}
		return fmt.Errorf("kqueue: fd %d: %w", fd, err)
	}
	return nil
}

// Rearm does nothing but check its arguments: EV_CLEAR filters report every
// new edge by themselves.
func (d *poller) Rearm(fd driver.FD, token driver.Token, interest driver.Interest) error {
	if err := d.checkArgs("rearm", fd, token, interest); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed.Load() {
		return driver.ClosedError(name, "rearm")
	}
	if _, ok := d.regs[fd]; !ok {
		return fmt.Errorf("kqueue: fd %d: %w", fd, driver.ErrNotRegistered)
	}
	return nil
}

// Deregister stops watching fd. Records of fd still queued in the driver are
// dropped when delivered, since fd is no longer in the table.
func (d *poller) Deregister(fd driver.FD) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed.Load() {
		return driver.ClosedError(name, "deregister")
	}
	old, ok := d.regs[fd]
	if !ok {
		return fmt.Errorf("kqueue: fd %d: %w", fd, driver.ErrNotRegistered)
	}
	delete(d.regs, fd)
	// The kernel's answer is of no interest: it refuses only when fd was
	// closed, which removed its filters anyway.
	d.change(fd, old.interest, false)
	return nil
}

// change applies or queues the changes that add (or delete) fd's filters
// for interest. Additions, or any change while a Wait is blocked (see the
// package comment), are applied at once and the kernel's refusal of one of
// them is returned. Called with mu held.
func (d *poller) change(fd int, interest driver.Interest, add bool) error {
	flags := uint16(evDelete)
	if add {
		flags = evAdd | evClear
	}
	start := len(d.pending)
	for _, dir := range [...]struct {
		in driver.Interest
		f  filter
	}{{driver.Read, filterRead}, {driver.Write, filterWrite}} {
		if interest&dir.in != 0 {
			d.pending = append(d.pending, kev{ident: uint64(fd), filter: dir.f, flags: flags})
		}
	}
	switch {
	case d.waiting && !concerns(d.inflight, fd) && !concerns(d.pending[:start], fd):
		err := d.apply(d.pending[start:], fd)
		d.truncatePending(start)
		return err
	case d.waiting:
		return d.nudge()
	case add:
		err := d.apply(d.pending, fd)
		d.truncatePending(0)
		return err
	}
	return nil
}

// concerns reports whether a change in changes is about fd.
func concerns(changes []kev, fd int) bool {
	for _, c := range changes {
		if c.ident == uint64(fd) {
			return true
		}
	}
	return false
}

// truncatePending drops the queued changes from n on.
func (d *poller) truncatePending(n int) {
	clear(d.pending[n:])
	d.pending = d.pending[:n]
}

// apply hands changes to the kernel with a kevent call of their own and
// returns the kernel's refusal of a change of fd (other than ENOENT, which
// only a deletion of a filter already gone gets). Refusals of the other
// changes, and events the call took from the queue (only where EV_RECEIPT
// is missing), go to raw for Wait to deliver; a blocked Wait is woken for
// them. Called with mu held.
func (d *poller) apply(changes []kev, fd int) error {
	if d.feat.receipt {
		// The kernel answers every change and returns without taking
		// events from the queue.
		for i := range changes {
			changes[i].flags |= evReceipt
		}
	}
	if cap(d.applyRecv) < len(changes) {
		d.applyRecv = make([]kev, len(changes))
	}
	recv := d.applyRecv[:len(changes)]
	n, err := d.keventRetry(changes, recv, &noTimeout, &d.applyBuf)
	if err != nil {
		return err
	}
	var own error
	kept, woke := len(d.raw), false
	for _, r := range recv[:n] {
		switch {
		case r.flags&evError != 0 && r.data == 0:
			// A receipt: the change was applied.
		case r.flags&evError != 0 && r.ident == uint64(fd) && r.data != int64(unix.ENOENT):
			own = unix.Errno(r.data)
		default:
			woke = d.take(r) || woke
		}
	}
	clear(recv)
	if (len(d.raw) > kept || woke) && d.waiting {
		if err := d.nudge(); err != nil {
			return err
		}
	}
	return own
}

// nudge wakes the blocked Wait so that it submits the queued changes or
// reports failures; the Wait does not return to its caller for it. Called
// with mu held.
func (d *poller) nudge() error {
	if d.nudged {
		return nil
	}
	d.nudged = true
	return d.fire()
}

// Wake makes the current or next Wait return.
func (d *poller) Wake() error {
	if d.closed.Load() {
		return driver.ClosedError(name, "wake")
	}
	if d.woken.Load() || !d.woken.CompareAndSwap(false, true) {
		return nil
	}
	return d.fire()
}

// fire triggers the wake-up event.
func (d *poller) fire() error {
	d.wakeMu.Lock()
	defer d.wakeMu.Unlock()
	if d.closed.Load() {
		return driver.ClosedError(name, "wake")
	}
	if d.feat.userFilter {
		if _, err := d.keventRetry(d.fireKev, nil, &noTimeout, &d.fireBuf); err != nil {
			return fmt.Errorf("kqueue: firing the wake-up: %w", err)
		}
		return nil
	}
	if err := d.wake.Wake(); err != nil {
		return fmt.Errorf("kqueue: writing the wake-up fd: %w", err)
	}
	return nil
}

// Wait submits the queued changes and waits for events; see driver.Driver.
func (d *poller) Wait(events []driver.Event, timeout time.Duration) (int, error) {
	if err := driver.CheckEvents(name, events); err != nil {
		return 0, err
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	n := 0
	for {
		d.mu.Lock()
		if d.closed.Load() {
			d.mu.Unlock()
			return n, driver.ClosedError(name, "wait")
		}
		n += d.deliver(events[n:])
		changes := d.pending
		d.pending = d.spare[:0]
		if n == len(events) && len(changes) == 0 {
			d.spare = changes
			d.mu.Unlock()
			d.woken.Store(false)
			return n, nil
		}
		var t *time.Duration
		switch {
		case n > 0 || timeout == 0 || d.woken.Load():
			// Events to return, or a Wake pending (whose record may have
			// been taken by a call of apply): the call must not block.
			t = &noTimeout
		case timeout > 0:
			d.remaining = max(time.Until(deadline), 0)
			t = &d.remaining
		}
		d.waiting = t == nil || *t > 0
		d.inflight = changes
		d.mu.Unlock()

		// Room for one record per change: the kernel reports failed
		// changes there (and then returns without waiting); without room it
		// would fail the call and skip the rest of the list.
		size := max(len(events)-n, len(changes))
		if cap(d.evBuf) < size {
			d.evBuf = make([]kev, size)
		}
		got, err := d.k.kevent(d.kq, changes, d.evBuf[:size], t, &d.waitBuf)

		d.mu.Lock()
		d.waiting, d.inflight, d.nudged = false, nil, false
		clear(changes)
		d.spare = changes[:0]
		if errors.Is(err, unix.EINTR) {
			// The changes were applied (see keventRetry); wait again for
			// the rest of the timeout.
			got, err = 0, nil
		}
		if err != nil {
			d.mu.Unlock()
			return n, fmt.Errorf("kqueue: kevent: %w", err)
		}
		for _, r := range d.evBuf[:got] {
			d.take(r)
		}
		n += d.deliver(events[n:])
		d.mu.Unlock()
		clear(d.evBuf[:got])

		woken := d.woken.Swap(false)
		if n > 0 || woken || timeout == 0 || (timeout > 0 && !time.Now().Before(deadline)) {
			return n, nil
		}
		// Only internal records (the wake-up for queued changes, failed
		// deletions), or the kernel's timer ended early: wait again.
	}
}

// take moves a record from the kernel into raw, unless it is the wake-up's,
// which it consumes and reports: the wake-up descriptor is drained, so that
// its EV_CLEAR read filter reports the next write as a new edge. Called with
// mu held.
func (d *poller) take(r kev) (wake bool) {
	switch {
	case r.filter == filterUser:
		return true
	case d.wake != nil && r.filter == filterRead && r.ident == uint64(d.wake.Fd()):
		d.wake.Drain()
		return true
	}
	d.raw = append(d.raw, r)
	return false
}

// deliver translates records from raw into events, as many as fit, and keeps
// the rest. Records of descriptors or directions no longer registered are
// dropped, the others carry the registration's current token. Called with mu
// held.
func (d *poller) deliver(events []driver.Event) int {
	n, used := 0, 0
	for _, r := range d.raw {
		if n == len(events) {
			break
		}
		used++
		reg, ok := d.regs[int(r.ident)]
		if !ok {
			continue
		}
		if rd, ok := readiness(r, reg.interest); ok {
			events[n] = driver.Event{Token: reg.token, Readiness: rd}
			n++
		}
	}
	rest := copy(d.raw, d.raw[used:])
	clear(d.raw[rest:])
	d.raw = d.raw[:rest]
	return n
}

// readiness translates one kernel record for a registration with interest.
// ok is false for records that report nothing to the user: a direction no
// longer watched, or a failed deletion (ENOENT: the filter was gone already).
func readiness(r kev, interest driver.Interest) (driver.Readiness, bool) {
	var in driver.Interest
	var ready, closed driver.Readiness
	switch r.filter {
	case filterRead:
		in, ready, closed = driver.Read, driver.Readable, driver.ReadClosed
	case filterWrite:
		in, ready, closed = driver.Write, driver.Writable, driver.WriteClosed
	default:
		return 0, false
	}
	if interest&in == 0 {
		return 0, false
	}
	if r.flags&evError != 0 {
		// A change the kernel could not apply, or an error of the filter.
		if r.data == int64(unix.ENOENT) {
			return 0, false
		}
		return driver.Error, true
	}
	rd := ready
	if r.flags&evEOF != 0 {
		rd |= closed
		if r.fflags != 0 {
			// On EOF, fflags holds the socket's pending error.
			rd |= driver.Error
		}
	}
	return rd, true
}

// Close releases the kqueue and the wake-up descriptor.
func (d *poller) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed.Load() {
		return driver.ClosedError(name, "close")
	}
	d.closed.Store(true)
	d.regs = nil
	d.raw = nil
	d.pending = nil
	d.wakeMu.Lock()
	defer d.wakeMu.Unlock()
	if err := d.releaseFDs(); err != nil {
		return fmt.Errorf("kqueue: Close: %w", err)
	}
	return nil
}
