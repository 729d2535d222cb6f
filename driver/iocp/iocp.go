//go:build windows

// Package iocp is libasync's readiness driver for Windows: an I/O completion
// port on which the AFD driver (the kernel side of Winsock) reports socket
// readiness. Importing it makes the driver openable as "iocp" (the default
// on Windows). It watches sockets only; other handles give an error
// wrapping driver.ErrNotSupported.
//
// Each registered socket has at most one AFD poll request pending on the
// driver's AFD handle, asking for the events of the directions that are
// armed. A completed poll is reported once and disarms the directions it
// reported: that is the edge. Rearm arms them again and submits a new poll,
// which completes at once if the direction is ready (so data that arrived
// after the user's EAGAIN is reported). Deregister cancels a pending poll,
// and Rearm one that asks for too little; a socket's request memory is
// reused only after the kernel delivered the completion of its last poll.
//
// AFD reports: RECEIVE and ACCEPT as Readable; DISCONNECT (the peer's FIN)
// as Readable and ReadClosed; SEND as Writable; ABORT (a reset) as
// ReadClosed, WriteClosed and Error; CONNECT_FAIL as WriteClosed and Error.
package iocp

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/windows"

	"github.com/libasync/libasync/driver"
)

func init() { driver.Provide(name, Open) }

const name = "iocp"

// The completion keys of the port's packets.
const (
	afdKey  = 1 // AFD poll completions
	wakeKey = 2 // Wake's packets
)

// closeDrain bounds how long Close waits for cancelled polls to complete
// before it gives up and leaks their memory rather than free it under the
// kernel.
const closeDrain = 5 * time.Second

// sock is the driver's state of one registered socket.
type sock struct {
	base     windows.Handle // the base provider's socket, which AFD polls
	token    driver.Token
	interest driver.Interest
	armed    driver.Interest // directions not reported since their last arming
	sl       *slot           // request memory, outside Go's heap
	life     life
	polled   uint32 // the events of the pending poll
}

// life is where a socket is between its Register and the moment its request
// memory can be reused; one value, so that no two states hold at once.
type life uint8

const (
	idle       life = iota // no poll pending
	polling                // a poll is pending, for the events in polled
	cancelling             // that poll is being cancelled, to ask for more
	gone                   // closed under its registration: never polled again
	draining               // deregistered; its memory waits for the poll's completion
)

// pending reports whether the kernel owes a completion on the socket's slot.
func (l life) pending() bool { return l == polling || l == cancelling || l == draining }

// poller implements driver.Driver on a completion port.
type poller struct {
	port windows.Handle
	afd  windows.Handle

	// woken is set by the Wake that posts the wake-up packet and cleared
	// by Wait when it returns; while set, Wake posts nothing. Sequentially
	// consistent atomics suffice: a Wake that finds it set happened before
	// the clearing, hence before that Wait returned, which is all a Wake
	// promises; a Wake after the clearing sets it and posts again.
	woken atomic.Bool
	// wakeMu keeps Close from closing the port under a posting Wake, which
	// checks closed again under it.
	wakeMu sync.RWMutex

	mu sync.Mutex
	// closed is stored under mu, before Close takes wakeMu; Wake reads it
	// without mu.
	closed atomic.Bool
	socks  map[windows.Handle]*sock // registered sockets, by the user's handle
	bySlot map[*slot]*sock          // every socket with request memory, deregistered ones too
	slab   slab

	// Owned by Wait (and by Close, which runs when no Wait does).
	entries []overlappedEntry
	removed uint32
}

// Open creates an iocp driver. Callers usually go through
// driver.Open("iocp") instead.
func Open() (driver.Driver, error) {
	port, err := windows.CreateIoCompletionPort(windows.InvalidHandle, 0, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("iocp: CreateIoCompletionPort: %w", err)
	}
	afd, err := openAFD()
	if err != nil {
		windows.CloseHandle(port)
		return nil, fmt.Errorf("iocp: %w", err)
	}
	if _, err := windows.CreateIoCompletionPort(afd, port, afdKey, 0); err != nil {
		windows.CloseHandle(afd)
		windows.CloseHandle(port)
		return nil, fmt.Errorf("iocp: associating AFD with the port: %w", err)
	}
	// No event object is waited on: spare the kernel setting one.
	if err := windows.SetFileCompletionNotificationModes(afd, windows.FILE_SKIP_SET_EVENT_ON_HANDLE); err != nil {
		windows.CloseHandle(afd)
		windows.CloseHandle(port)
		return nil, fmt.Errorf("iocp: SetFileCompletionNotificationModes: %w", err)
	}
	return &poller{port: port, afd: afd, socks: make(map[windows.Handle]*sock), bySlot: make(map[*slot]*sock)}, nil
}

// Name returns "iocp".
func (d *poller) Name() string { return name }

// Register starts watching socket fd.
func (d *poller) Register(fd driver.FD, token driver.Token, interest driver.Interest) error {
	if err := driver.CheckArgs(name, "register", fd, token, interest); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed.Load() {
		return driver.ClosedError(name, "register")
	}
	if _, ok := d.socks[fd]; ok {
		return fmt.Errorf("iocp: handle %#x: %w", uintptr(fd), driver.ErrRegistered)
	}
	base, err := baseHandle(fd)
	if err != nil {
		return fmt.Errorf("iocp: handle %#x is not a socket: %w: %w", uintptr(fd), driver.ErrNotSupported, err)
	}
	sl, err := d.slab.get()
	if err != nil {
		return fmt.Errorf("iocp: %w", err)
	}
	s := &sock{base: base, token: token, interest: interest, armed: interest, sl: sl}
	d.bySlot[sl] = s
	if err := d.update(s); err != nil {
		delete(d.bySlot, sl)
		d.slab.put(sl)
		return fmt.Errorf("iocp: handle %#x: %w", uintptr(fd), err)
	}
	d.socks[fd] = s
	return nil
}

// lookup returns fd's state, or the error for a call on fd. Called with mu
// held.
func (d *poller) lookup(op string, fd driver.FD) (*sock, error) {
	if d.closed.Load() {
		return nil, driver.ClosedError(name, op)
	}
	s, ok := d.socks[fd]
	if !ok {
		return nil, fmt.Errorf("iocp: handle %#x: %w", uintptr(fd), driver.ErrNotRegistered)
	}
	return s, nil
}

// Rearm arms the directions of interest again, polling the socket's current
// state.
func (d *poller) Rearm(fd driver.FD, token driver.Token, interest driver.Interest) error {
	if err := driver.CheckArgs(name, "rearm", fd, token, interest); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	s, err := d.lookup("rearm", fd)
	if err != nil {
		return err
	}
	s.armed |= interest & s.interest
	if err := d.update(s); err != nil {
		return fmt.Errorf("iocp: handle %#x: %w", uintptr(fd), err)
	}
	return nil
}

// Deregister stops watching fd. A pending poll is cancelled; its memory is
// reused once its completion has been taken from the port.
func (d *poller) Deregister(fd driver.FD) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	s, err := d.lookup("deregister", fd)
	if err != nil {
		return err
	}
	delete(d.socks, fd)
	d.release(s)
	return nil
}

// afdEvents returns the AFD events that report the directions of armed.
func afdEvents(armed driver.Interest) uint32 {
	if armed == 0 {
		return 0
	}
	// LOCAL_CLOSE completes the poll when the user closes the socket
	// without deregistering it, instead of leaving it pending forever.
	ev := uint32(afdPollAbort | afdPollConnectFail | afdPollLocalClose)
	if armed&driver.Read != 0 {
		ev |= afdPollReceive | afdPollAccept | afdPollDisconnect
	}
	if armed&driver.Write != 0 {
		ev |= afdPollSend
	}
	return ev
}

// readiness translates the events of a completed poll for the directions
// of armed.
func readiness(events uint32, armed driver.Interest) driver.Readiness {
	var r driver.Readiness
	if armed&driver.Read != 0 {
		if events&(afdPollReceive|afdPollAccept) != 0 {
			r |= driver.Readable
		}
		if events&afdPollDisconnect != 0 {
			// The peer's FIN: a read returns end of file without blocking.
			r |= driver.Readable | driver.ReadClosed
		}
		if events&afdPollAbort != 0 {
			r |= driver.ReadClosed
		}
	}
	if armed&driver.Write != 0 {
		if events&afdPollSend != 0 {
			r |= driver.Writable
		}
		if events&(afdPollAbort|afdPollConnectFail) != 0 {
			r |= driver.WriteClosed
		}
	}
	if armed != 0 && events&(afdPollAbort|afdPollConnectFail) != 0 {
		// A reset or a failed connect leaves an error pending on the
		// socket, which the user's next I/O returns.
		r |= driver.Error
	}
	return r
}

// disarm returns the directions a report of r leaves armed.
func disarm(armed driver.Interest, r driver.Readiness) driver.Interest {
	if r&driver.Error != 0 {
		return 0
	}
	if r&(driver.Readable|driver.ReadClosed) != 0 {
		armed &^= driver.Read
	}
	if r&(driver.Writable|driver.WriteClosed) != 0 {
		armed &^= driver.Write
	}
	return armed
}

// update brings the poll of a registered socket in line with its armed
// directions: it submits a poll for them, or cancels one that asks for too
// little (the cancelled completion then leads here again). A pending poll
// that asks for more than needed is left alone; what it reports beyond the
// armed directions is dropped. Called with mu held.
func (d *poller) update(s *sock) error {
	want := afdEvents(s.armed)
	switch {
	case s.life == polling && want&^s.polled != 0:
		cancelAFD(d.afd, s.sl)
		s.life = cancelling
		return nil
	case s.life != idle || want == 0:
		return nil
	}
	s.sl.info = afdPollInfo{timeout: math.MaxInt64, numberOfHandles: 1, handle: s.base, events: want}
	st := pollAFD(d.afd, s.sl)
	if failed(st) {
		// A request that failed at once posts no completion.
		return fmt.Errorf("AFD poll: %w", st)
	}
	// Pending or already done: either way a completion will be posted.
	s.life, s.polled = polling, want
	return nil
}

// release ends s's registration: its request memory is reused at once if
// no poll is pending, else once the poll, cancelled here, has completed.
// (A poll that completed already, STATUS_NOT_FOUND to the cancel, has its
// completion on the way all the same.) Called with mu held.
func (d *poller) release(s *sock) {
	switch s.life {
	case polling:
		cancelAFD(d.afd, s.sl)
		s.life = draining
	case cancelling:
		s.life = draining
	case idle, gone:
		d.free(s)
	}
}

// free returns s's request memory to the slab. Called with mu held.
func (d *poller) free(s *sock) {
	delete(d.bySlot, s.sl)
	d.slab.put(s.sl)
	s.sl = nil
}

// complete takes the completion of the poll in sl and returns the event it
// gives, if any. Called with mu held.
func (d *poller) complete(sl *slot) (driver.Event, bool) {
	s, ok := d.bySlot[sl]
	if !ok || !s.life.pending() {
		return driver.Event{}, false
	}
	if s.life == draining {
		d.free(s)
		return driver.Event{}, false
	}
	s.life = idle
	var r driver.Readiness
	status := windows.NTStatus(sl.iosb.status)
	switch {
	case status == windows.STATUS_CANCELLED:
	case failed(status):
		// The request failed: the socket is unusable.
		r = driver.Error
	case sl.info.numberOfHandles == 0:
	case sl.info.events&afdPollLocalClose != 0:
		// Closed without Deregister: nothing more to watch.
		s.life = gone
	default:
		r = readiness(sl.info.events, s.armed)
	}
	s.armed = disarm(s.armed, r)
	if err := d.update(s); err != nil {
		r |= driver.Error
		s.armed = 0
	}
	if r == 0 {
		return driver.Event{}, false
	}
	return driver.Event{Token: s.token, Readiness: r}, true
}

// Wait takes completions from the port; see driver.Driver.
func (d *poller) Wait(events []driver.Event, timeout time.Duration) (int, error) {
	if err := driver.CheckEvents(name, events); err != nil {
		return 0, err
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	if d.closed.Load() {
		return 0, driver.ClosedError(name, "wait")
	}
	if cap(d.entries) < len(events) {
		d.entries = make([]overlappedEntry, len(events))
	}
	// One completion gives at most one event, so what is taken fits.
	entries := d.entries[:len(events)]
	for {
		ms := uint32(infinite)
		switch {
		case timeout == 0 || d.woken.Load():
			ms = 0
		case timeout > 0:
			ms = millis(time.Until(deadline))
		}
		got, err := getCompletions(d.port, entries, ms, &d.removed)
		if err != nil && !errors.Is(err, windows.WAIT_TIMEOUT) {
			return 0, fmt.Errorf("iocp: GetQueuedCompletionStatusEx: %w", err)
		}
		n := 0
		d.mu.Lock()
		for _, e := range entries[:got] {
			if e.key != afdKey || e.overlapped == 0 {
				continue // Wake's packet: woken tells.
			}
			if ev, ok := d.complete(slotAt(e.overlapped)); ok {
				events[n] = ev
				n++
			}
		}
		d.mu.Unlock()
		clear(entries[:got])
		woken := d.woken.Swap(false)
		if n > 0 || woken || timeout == 0 || (timeout > 0 && !time.Now().Before(deadline)) {
			return n, nil
		}
		// Only cancellations or dropped reports, or the timer ended
		// early: wait again.
	}
}

// millis rounds d up to whole milliseconds, so the wait is never short,
// below INFINITE.
func millis(d time.Duration) uint32 {
	if d <= 0 {
		return 0
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	return uint32(min(ms, infinite-1))
}

// Wake makes the current or next Wait return.
func (d *poller) Wake() error {
	if d.closed.Load() {
		return driver.ClosedError(name, "wake")
	}
	if d.woken.Load() || !d.woken.CompareAndSwap(false, true) {
		return nil
	}
	d.wakeMu.RLock()
	defer d.wakeMu.RUnlock()
	if d.closed.Load() {
		return driver.ClosedError(name, "wake")
	}
	if err := windows.PostQueuedCompletionStatus(d.port, 0, wakeKey, nil); err != nil {
		return fmt.Errorf("iocp: PostQueuedCompletionStatus: %w", err)
	}
	return nil
}

// Close cancels every pending poll, waits for their completions so that no
// request memory is freed under the kernel, and releases the port, the AFD
// handle and that memory.
func (d *poller) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed.Load() {
		return driver.ClosedError(name, "close")
	}
	d.closed.Store(true)
	// Every socket is released; those left in bySlot wait for a completion.
	// (Deleting from a map while ranging over it is allowed.)
	for _, s := range d.bySlot {
		d.release(s)
	}
	d.socks = nil
	entries := make([]overlappedEntry, 64)
	deadline := time.Now().Add(closeDrain)
	for len(d.bySlot) > 0 && time.Now().Before(deadline) {
		got, err := getCompletions(d.port, entries, 50, &d.removed)
		if err != nil && !errors.Is(err, windows.WAIT_TIMEOUT) {
			break
		}
		for _, e := range entries[:got] {
			if e.key == afdKey && e.overlapped != 0 {
				d.complete(slotAt(e.overlapped))
			}
		}
	}
	err := windows.CloseHandle(d.afd)
	d.wakeMu.Lock()
	err = errors.Join(err, windows.CloseHandle(d.port))
	d.wakeMu.Unlock()
	if len(d.bySlot) == 0 {
		err = errors.Join(err, d.slab.release())
	}
	d.bySlot = nil
	if err != nil {
		return fmt.Errorf("iocp: Close: %w", err)
	}
	return nil
}
