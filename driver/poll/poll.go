//go:build unix

// Package poll provides the portable readiness driver, "poll", on poll(2)
// for any unix. Importing it makes driver.Open("poll") work; it is the
// default driver on unix systems without a better facility, and on every
// unix when built with the tag libasync_poll.
//
// poll(2) is level-triggered; the driver emulates the contract's edges: a
// direction it reported stays out of the poll set until Rearm puts it back,
// and being level-triggered, the next poll then reports data that arrived
// in between. Each Wait costs O(registered fds) in the kernel, as poll(2)
// does; prefer epoll or kqueue for many connections.
//
// The peer's shutdown of its write side is ReadClosed: Linux says so with
// POLLRDHUP; elsewhere the driver peeks at a stream socket that polled
// readable, one recv(MSG_PEEK) per such event.
package poll

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/driver/wakefd"
	"golang.org/x/sys/unix"
)

// name is the name the driver is provided under.
const name = "poll"

func init() { driver.Provide(name, Open) }

// entry is one registration.
type entry struct {
	fd       driver.FD
	token    driver.Token
	interest driver.Interest
	// armed is the part of interest that may be reported: a direction
	// leaves it when reported, and comes back on Rearm.
	armed driver.Interest
	// slot is the entry's index in pfds, or -1 when it has none yet.
	slot int
	// index is the entry's position in poller.list.
	index int
	// removed marks an entry deregistered while a Wait may still hold it
	// in its owners array.
	removed bool
	// peek is set for stream sockets where poll(2) has no POLLRDHUP: a
	// readable one is peeked at to tell the peer's shutdown from data.
	peek bool
}

// poller implements driver.Driver on poll(2). The entries are the truth;
// pfds is derived from them. Outside poll(2) a change of armed directions
// patches pfds in place; while a Wait is inside poll(2) the kernel owns pfds
// (some kernels copy the whole array back out), so a change marks pfds dirty
// and interrupts the poll through the wake-up fd, and the Wait rebuilds
// pfds and polls again: changes take effect in the Wait that is running.
type poller struct {
	mu sync.Mutex
	// closed is stored under mu, which orders it for every reader under mu.
	closed atomic.Bool
	regs   map[driver.FD]*entry
	list   []*entry // the entries, for rebuilding pfds in O(n)
	dirty  bool     // pfds no longer matches the entries
	inPoll bool     // a Wait is inside poll(2) with pfds
	pfds   []unix.PollFd
	owners []*entry // owners[i] owns pfds[i]; owners[0] is nil (the wake fd)
	cursor int      // where the next scan of poll results starts, for fairness

	// wake interrupts poll(2), for a Wake or a change; woken records that
	// a user Wake (not a change) is among them. Wake takes no lock, so
	// that it never waits for a Wait that holds mu while it sorts poll
	// results.
	wake  *wakefd.FD
	woken atomic.Bool

	sys sysPoll // owned by the goroutine in Wait
}

// Open creates a poll driver.
func Open() (driver.Driver, error) {
	w, err := wakefd.New()
	if err != nil {
		return nil, fmt.Errorf("poll: wake-up fd: %w", err)
	}
	p := &poller{regs: make(map[driver.FD]*entry), wake: w}
	p.pfds = append(p.pfds, unix.PollFd{Fd: int32(w.Fd()), Events: unix.POLLIN})
	p.owners = append(p.owners, nil)
	p.cursor = 1
	return p, nil
}

func (p *poller) Name() string { return name }

// events returns the poll events that watch the armed directions.
func events(armed driver.Interest) uint16 {
	var ev uint16
	if armed&driver.Read != 0 {
		ev |= revIn | revRDHup
	}
	if armed&driver.Write != 0 {
		ev |= revOut
	}
	return ev
}

// setEvents stores ev in a pollfd's events field, which is int16 on most
// systems and uint16 on AIX.
func setEvents[T int16 | uint16](field *T, ev uint16) { *field = T(ev) }

// The poll bits as unsigned values: AIX puts POLLNVAL in the sign bit.
const (
	revIn    = uint16(unix.POLLIN)
	revOut   = uint16(unix.POLLOUT)
	revHup   = uint16(unix.POLLHUP)
	revErr   = uint16(unix.POLLERR)
	revNval  = uint16(unix.POLLNVAL)
	revRDHup = uint16(pollRDHUP)
)

// readiness maps revents to the contract's bits for the armed directions,
// with the meanings epoll's driver gives their epoll twins. POLLNVAL (the
// fd was closed while registered) is an Error.
func readiness(rev uint16, armed driver.Interest) driver.Readiness {
	var r driver.Readiness
	if armed&driver.Read != 0 {
		if rev&revIn != 0 {
			r |= driver.Readable
		}
		if rev&(revRDHup|revHup) != 0 {
			r |= driver.ReadClosed
		}
	}
	if armed&driver.Write != 0 {
		if rev&revOut != 0 {
			r |= driver.Writable
		}
		if rev&(revHup|revErr) != 0 {
			r |= driver.WriteClosed
		}
	}
	if armed != 0 && rev&(revErr|revNval) != 0 {
		r |= driver.Error
	}
	return r
}

// reported returns the directions an event used up. An Error ends both,
// since POLLERR stays set and would otherwise be reported on every Wait.
func reported(r driver.Readiness) driver.Interest {
	var in driver.Interest
	if r&(driver.Readable|driver.ReadClosed|driver.Error) != 0 {
		in |= driver.Read
	}
	if r&(driver.Writable|driver.WriteClosed|driver.Error) != 0 {
		in |= driver.Write
	}
	return in
}

// isStream reports whether fd is a stream socket, whose reads return 0 only
// at the end of the stream (a datagram socket's do for an empty datagram).
func isStream(fd driver.FD) bool {
	typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	return err == nil && typ == unix.SOCK_STREAM
}

// peekEOF reports whether the stream socket fd, which polled readable, is
// at the end of its stream: a peek at one byte finds none. It leaves any
// data where it is.
func peekEOF(fd driver.FD) bool {
	var b [1]byte
	n, _, err := unix.Recvfrom(fd, b[:], unix.MSG_PEEK)
	return err == nil && n == 0
}

// lookup returns fd's entry, or the error for op; the caller holds mu.
func (p *poller) lookup(op string, fd driver.FD) (*entry, error) {
	if p.closed.Load() {
		return nil, driver.ClosedError(name, op)
	}
	e := p.regs[fd]
	if e == nil {
		return nil, fmt.Errorf("poll: %s fd %d: %w", op, fd, driver.ErrNotRegistered)
	}
	return e, nil
}

func (p *poller) Register(fd driver.FD, token driver.Token, interest driver.Interest) error {
	if err := driver.CheckArgs(name, "register", fd, token, interest); err != nil {
		return err
	}
	// poll(2) would only say POLLNVAL later; catch a closed fd now.
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
		return fmt.Errorf("poll: register fd %d: %w: %w", fd, driver.ErrInvalid, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed.Load() {
		return driver.ClosedError(name, "register")
	}
	if p.regs[fd] != nil {
		return fmt.Errorf("poll: register fd %d: %w", fd, driver.ErrRegistered)
	}
	e := &entry{fd: fd, token: token, interest: interest, armed: interest, slot: -1, index: len(p.list),
		peek: pollRDHUP == 0 && isStream(fd)}
	p.regs[fd] = e
	p.list = append(p.list, e)
	p.changed(e)
	return nil
}

// Rearm puts the directions of interest that the registration watches back
// into the poll set; directions it does not watch are ignored.
func (p *poller) Rearm(fd driver.FD, token driver.Token, interest driver.Interest) error {
	if err := driver.CheckArgs(name, "rearm", fd, token, interest); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	e, err := p.lookup("rearm", fd)
	if err != nil {
		return err
	}
	armed := e.armed | interest&e.interest
	if armed == e.armed {
		return nil
	}
	e.armed = armed
	p.changed(e)
	return nil
}

func (p *poller) Deregister(fd driver.FD) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, err := p.lookup("deregister", fd)
	if err != nil {
		return err
	}
	delete(p.regs, fd)
	last := p.list[len(p.list)-1]
	p.list[e.index] = last
	last.index = e.index
	p.list[len(p.list)-1] = nil
	p.list = p.list[:len(p.list)-1]
	e.removed = true
	// The slot stays a hole until the next rebuild.
	p.dirty = true
	switch {
	case e.slot < 0:
		// Not in pfds: no poll(2) knows of fd.
	case p.inPoll:
		// poll(2) holds a reference to every file it polls until it
		// returns: the user's close of fd after this Deregister would not
		// close the socket (no FIN, no release) until then.
		p.signal()
	default:
		p.pfds[e.slot].Fd = -1 // poll(2) ignores negative fds
	}
	return nil
}

// changed brings pfds in line with e after its armed directions changed,
// or tells the running poll(2) to start over; the caller holds mu.
func (p *poller) changed(e *entry) {
	switch {
	case p.inPoll:
		p.dirty = true
		p.signal()
	case e.slot < 0:
		p.dirty = true
	default:
		p.patch(e)
	}
}

// patch writes e's armed directions into its slot; the caller holds mu and
// no poll(2) uses pfds.
func (p *poller) patch(e *entry) {
	pfd := &p.pfds[e.slot]
	ev := events(e.armed)
	pfd.Fd = int32(e.fd)
	if ev == 0 {
		// An fd with no events would still report POLLHUP and POLLERR,
		// over and over: leave it out instead.
		pfd.Fd = -1
	}
	setEvents(&pfd.Events, ev)
}

// rebuild derives pfds from the entries; the caller holds mu.
func (p *poller) rebuild() {
	clear(p.owners[1:])
	p.pfds, p.owners = p.pfds[:1], p.owners[:1]
	for _, e := range p.list {
		e.slot = len(p.pfds)
		p.pfds = append(p.pfds, unix.PollFd{})
		p.owners = append(p.owners, e)
		p.patch(e)
	}
	// cursor stays where it was: rebuilds come with every registration
	// change, and starting each scan over at slot 1 would let the first
	// ready fds starve the others when events slices are small.
	p.dirty = false
}

// signal makes a poll(2) in progress, or the next one, return.
func (p *poller) signal() error {
	if err := p.wake.Wake(); err != nil {
		return fmt.Errorf("poll: wake: %w", err)
	}
	return nil
}

// Wake marks a user wake-up, then signals.
func (p *poller) Wake() error {
	p.woken.Store(true)
	return p.signal()
}

func (p *poller) Wait(events []driver.Event, timeout time.Duration) (int, error) {
	if err := driver.CheckEvents(name, events); err != nil {
		return 0, err
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		if p.closed.Load() {
			return 0, driver.ClosedError(name, "wait")
		}
		left := timeout
		if timeout > 0 {
			if left = time.Until(deadline); left <= 0 {
				return 0, nil
			}
		}
		if p.dirty {
			p.rebuild()
		}
		pfds := p.pfds
		p.inPoll = true
		p.mu.Unlock()
		n, err := p.sys.poll(pfds, left)
		p.mu.Lock()
		p.inPoll = false
		if p.closed.Load() {
			// Closed under a running Wait, against the contract: pfds
			// and the entries are gone.
			return 0, driver.ClosedError(name, "wait")
		}
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("poll: poll: %w", err)
		}
		woken := false
		if pfds[0].Revents != 0 {
			n--
			// Drain, then take woken: a Wake whose write the drain
			// took back, or that found it pending and wrote none, stored
			// woken before, which the Swap sees (Go's atomics are
			// sequentially consistent); a later one writes again.
			p.wake.Drain()
			woken = p.woken.Swap(false)
		}
		filled := p.collect(pfds, n, events)
		if filled > 0 || woken || timeout == 0 {
			return filled, nil
		}
		// A change interrupted the poll, or the timeout passed (checked
		// at the top), or every result was of an entry changed since.
	}
}

// collect turns up to n results of pfds into events, starting where the
// previous scan stopped so that a small events slice serves every fd in
// turn; results that do not fit stay armed for the next Wait. The caller
// holds mu.
func (p *poller) collect(pfds []unix.PollFd, n int, out []driver.Event) int {
	filled := 0
	size := len(pfds) - 1
	if p.cursor > size {
		p.cursor = 1
	}
	for k := 0; k < size && n > 0; k++ {
		i := 1 + (p.cursor-1+k)%size
		rev := uint16(pfds[i].Revents)
		if rev == 0 {
			continue
		}
		n--
		e := p.owners[i]
		if e == nil || e.removed {
			continue
		}
		r := readiness(rev, e.armed)
		if r == 0 {
			continue
		}
		if e.peek && r&driver.Readable != 0 && peekEOF(e.fd) {
			r |= driver.ReadClosed
		}
		if filled == len(out) {
			p.cursor = i
			return filled
		}
		out[filled] = driver.Event{Token: e.token, Readiness: r}
		filled++
		e.armed &^= reported(r)
		p.changed(e)
	}
	return filled
}

func (p *poller) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed.Load() {
		return driver.ClosedError(name, "close")
	}
	p.closed.Store(true)
	p.regs, p.list, p.owners, p.pfds = nil, nil, nil, nil
	return p.wake.Close()
}
