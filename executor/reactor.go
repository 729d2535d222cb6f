package executor

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/future"
)

// Reactor turns a driver's readiness events into wakes. Each executor owns
// one; futures reach it through ReactorOf(cx), so an I/O future takes no
// runtime argument. The Reactor's methods are safe from any goroutine.
//
// The protocol for an I/O future (this is what package socket does):
//
//  1. Register the fd once, with the directions it will wait for.
//  2. To read: call PollReady(cx, driver.Read). If it is Pending, return
//     Pending (the task is woken when the fd becomes readable). If it is
//     Ready, try the read; if the read answers EAGAIN, call ClearReady with
//     the Ready value PollReady returned and go back to PollReady (never
//     return Pending without it). Writing is the same with driver.Write.
//  3. A future abandoned while it waits calls Release with the waker of its
//     last Pending poll, so another task may wait on that direction.
//  4. Deregister before closing the fd.
type Reactor struct {
	drv driver.Driver

	// live counts registrations, so that an executor with none skips the
	// system call of a non-blocking look at the driver. It is a hint that
	// orders nothing: a registration made concurrently is seen at the next
	// turn, and the blocking waits always enter the driver.
	live atomic.Int32

	// table maps a token's low 32 bits, its slot, to the registration that
	// holds the slot; dispatch reads it without mu (see lookup). Chunks
	// never move once published, so a table loaded before a growth still
	// shows the current registration of every slot it has.
	table atomic.Pointer[[]*slotChunk]

	// mu guards next, free, closed, the slots' generations and the
	// table's growth.
	mu     sync.Mutex
	next   uint32 // slots handed out so far
	free   []uint32
	closed bool

	// tick numbers the dispatch rounds (owner: the goroutine in Wait); it is
	// stored with each readiness update so that ClearReady can tell whether
	// an event arrived after the readiness it is clearing was observed.
	tick uint16
}

// The table's chunks: 256 slots each, so that the table holds one pointer
// per 256 slots.
const (
	chunkBits = 8
	chunkMask = 1<<chunkBits - 1
)

type slotChunk [1 << chunkBits]regSlot

type regSlot struct {
	reg atomic.Pointer[Registration]
	gen uint32 // under mu; bumped at each release, so stale tokens miss
}

// slotAt returns slot idx of table t, or nil if t has no such slot.
func slotAt(t []*slotChunk, idx uint32) *regSlot {
	c := idx >> chunkBits
	if c >= uint32(len(t)) {
		return nil
	}
	return &t[c][idx&chunkMask]
}

// The layout of Registration.state: readiness bits, the dispatch tick at
// which they were last set, and the closed flag, in one word so that one
// atomic load answers "ready, and as of when".
const (
	readinessMask = 0xff
	tickShift     = 8
	tickMask      = 0xffff << tickShift
	closedFlag    = 1 << 24
)

// Registration is one fd registered with a Reactor. At most one task waits
// for each direction at a time.
type Registration struct {
	reactor  *Reactor
	fd       driver.FD
	token    driver.Token
	interest driver.Interest

	// state packs readiness, tick and closed (see readinessMask). Updates
	// are CAS loops; the dispatcher sets bits before it takes the waiters,
	// and a poller stores its waiter before it re-reads state, so with mu
	// ordering the two, a readiness set concurrently with a Pending poll
	// is always seen by one of them.
	state atomic.Uint32

	mu      sync.Mutex
	waiters [2]future.Waker // [0] read, [1] write
}

// Ready is what PollReady reports: the readiness bits that concern the
// polled direction, and when they were observed (for ClearReady).
type Ready struct {
	Readiness driver.Readiness
	dir       driver.Interest
	tick      uint16
}

// ReactorOf returns the Reactor of the executor that polls cx, or
// future.ErrNoRuntime.
func ReactorOf(cx *future.Context) (*Reactor, error) {
	s, err := servicesOf(cx)
	if err != nil {
		return nil, err
	}
	return s.ioReactor(), nil
}

func newReactor(drv driver.Driver) *Reactor {
	r := &Reactor{drv: drv}
	r.table.Store(new([]*slotChunk))
	return r
}

// Register starts watching fd (non-blocking, not registered yet) for
// interest (driver.Read, driver.Write or both). The Registration belongs to
// this Reactor: polling it through another executor gives ErrWrongRuntime.
// After Close of the executor it returns future.ErrClosed.
func (r *Reactor) Register(fd driver.FD, interest driver.Interest) (*Registration, error) {
	if !interest.Valid() {
		return nil, ErrInvalid
	}
	reg := &Registration{reactor: r, fd: fd, interest: interest}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, future.ErrClosed
	}
	var idx uint32
	if n := len(r.free); n > 0 {
		idx = r.free[n-1]
		r.free = r.free[:n-1]
	} else {
		// Slot 2^32-1 is never reached (it would take 2^32 live
		// registrations), so no token is driver.ReservedToken.
		idx = r.next
		r.next++
		if t := *r.table.Load(); idx>>chunkBits == uint32(len(t)) {
			// Appending to t's array is safe: readers of t never index
			// past its length.
			grown := append(t, new(slotChunk))
			r.table.Store(&grown)
		}
	}
	s := slotAt(*r.table.Load(), idx)
	reg.token = driver.Token(uint64(s.gen)<<32 | uint64(idx))
	// Published after the token is set, which lookup reads.
	s.reg.Store(reg)
	r.live.Add(1)
	r.mu.Unlock()
	// Registering with the driver outside the lock is safe: no event can
	// carry the token before the driver knows the fd.
	if err := r.drv.Register(fd, reg.token, interest); err != nil {
		r.release(reg)
		return nil, fmt.Errorf("libasync: register fd: %w", err)
	}
	return reg, nil
}

// release frees reg's slot, bumping its generation so that events still in
// flight with reg's token are dropped.
func (r *Reactor) release(reg *Registration) bool {
	idx := uint32(reg.token)
	r.mu.Lock()
	defer r.mu.Unlock()
	s := slotAt(*r.table.Load(), idx)
	if s == nil || s.reg.Load() != reg {
		return false
	}
	s.reg.Store(nil)
	s.gen++
	r.free = append(r.free, idx)
	r.live.Add(-1)
	return true
}

// lookup returns the registration that tok names in table t, or nil if
// none does any more: its slot is free, or holds a later registration,
// whose token (another generation) differs. It takes no lock: slots are
// atomic pointers to registrations whose token never changes once
// published. A registration being released concurrently may still be
// returned, as it could be when dispatch read the slot under the mutex and
// delivered after unlocking: the delivery is a wake like any other, and
// Deregister's shut follows it.
func lookup(t []*slotChunk, tok driver.Token) *Registration {
	s := slotAt(t, uint32(tok))
	if s == nil {
		return nil
	}
	if reg := s.reg.Load(); reg != nil && reg.token == tok {
		return reg
	}
	return nil
}

// active reports whether any fd is registered.
func (r *Reactor) active() bool { return r.live.Load() > 0 }

// dispatch delivers a batch of events from one Wait. It is called by the
// goroutine that waited, right after its Wait; since Wait never runs
// concurrently with itself, neither does dispatch, which owns tick.
func (r *Reactor) dispatch(events []driver.Event) {
	if len(events) == 0 {
		return
	}
	r.tick++
	tick := uint32(r.tick) << tickShift
	// One load serves the batch: the registrations its events name were
	// published before their fds reached the driver, hence before the Wait
	// that returned them.
	t := *r.table.Load()
	for _, ev := range events {
		if reg := lookup(t, ev.Token); reg != nil {
			reg.deliver(ev.Readiness, tick)
		}
		// Else deregistered while the event was in flight.
	}
}

// close marks every registration closed and wakes its waiters; later
// Register calls fail. The executor calls it when it shuts down.
func (r *Reactor) close() {
	r.mu.Lock()
	r.closed = true
	t := *r.table.Load()
	var regs []*Registration
	for _, c := range t {
		for i := range c {
			if reg := c[i].reg.Swap(nil); reg != nil {
				regs = append(regs, reg)
			}
		}
	}
	r.table.Store(new([]*slotChunk))
	r.free = nil
	r.mu.Unlock()
	for _, reg := range regs {
		reg.shut()
	}
}

// dirMask returns the readiness bits that wake a waiter of dir.
func dirMask(dir driver.Interest) uint32 {
	switch dir {
	case driver.Read:
		return uint32(driver.Readable | driver.ReadClosed | driver.Error)
	case driver.Write:
		return uint32(driver.Writable | driver.WriteClosed | driver.Error)
	}
	return 0
}

// deliver records readiness and wakes the waiters it concerns.
func (g *Registration) deliver(rd driver.Readiness, tick uint32) {
	for {
		s := g.state.Load()
		ns := (s &^ tickMask) | uint32(rd) | tick
		if g.state.CompareAndSwap(s, ns) {
			break
		}
	}
	var wake [2]future.Waker
	g.mu.Lock()
	for i, dir := range [2]driver.Interest{driver.Read, driver.Write} {
		if uint32(rd)&dirMask(dir) != 0 {
			wake[i], g.waiters[i] = g.waiters[i], future.Waker{}
		}
	}
	g.mu.Unlock()
	wake[0].Wake()
	wake[1].Wake()
}

// shut marks g closed and wakes both waiters, who then see ErrClosed.
func (g *Registration) shut() {
	for {
		s := g.state.Load()
		if s&closedFlag != 0 {
			return
		}
		if g.state.CompareAndSwap(s, s|closedFlag) {
			break
		}
	}
	g.mu.Lock()
	w := g.waiters
	g.waiters = [2]future.Waker{}
	g.mu.Unlock()
	w[0].Wake()
	w[1].Wake()
}

// FD returns the registered descriptor.
func (g *Registration) FD() driver.FD { return g.fd }

// PollReady reports whether dir (driver.Read or driver.Write) is ready. When
// it is not, it stores cx's waker as the direction's waiter and returns
// Pending; the waiter is woken (and removed) when an event for dir arrives or
// the registration closes. It is ready with an error: ErrInvalid for a
// direction not in the registration's interest; ErrWrongRuntime when cx
// belongs to another executor; ErrBusy when a different waker already waits
// on dir; future.ErrClosed after Deregister or executor shutdown. A zero
// waker (future.NoopWaker) only looks: Pending leaves no waiter. Readable,
// writable and error readiness stay set until ClearReady; read-closed and
// write-closed until Deregister.
func (g *Registration) PollReady(cx *future.Context, dir driver.Interest) future.Poll[future.Result[Ready]] {
	mask := dirMask(dir)
	if mask == 0 || g.interest&dir == 0 {
		return future.Ready(future.Fail[Ready](ErrInvalid))
	}
	if s, err := servicesOf(cx); err != nil || s.ioReactor() != g.reactor {
		return future.Ready(future.Fail[Ready](ErrWrongRuntime))
	}
	p, done := g.readyNow(mask, dir)
	w := cx.Waker()
	if done || w.IsZero() {
		// A zero waker only looks (a try): it neither displaces the
		// direction's waiter nor becomes one.
		return p
	}
	i := dirIndex(dir)
	g.mu.Lock()
	if cur := g.waiters[i]; !cur.IsZero() && !cur.WillWake(w) {
		g.mu.Unlock()
		return future.Ready(future.Fail[Ready](ErrBusy))
	}
	g.waiters[i] = w
	// Re-check after storing the waiter: a delivery that set readiness
	// before we stored it would not have found the waiter.
	p, done = g.readyNow(mask, dir)
	if done {
		g.waiters[i] = future.Waker{}
	}
	g.mu.Unlock()
	return p
}

// readyNow reads the state once: Ready (value or closed) when done.
func (g *Registration) readyNow(mask uint32, dir driver.Interest) (future.Poll[future.Result[Ready]], bool) {
	s := g.state.Load()
	if s&closedFlag != 0 {
		return future.Ready(future.Fail[Ready](future.ErrClosed)), true
	}
	if s&mask != 0 {
		rd := Ready{Readiness: driver.Readiness(s & mask), dir: dir, tick: uint16((s & tickMask) >> tickShift)}
		return future.Ready(future.Ok(rd)), true
	}
	return future.Pending[future.Result[Ready]](), false
}

func dirIndex(dir driver.Interest) int {
	if dir == driver.Write {
		return 1
	}
	return 0
}

// ClearReady is called after the I/O that rd allowed answered EAGAIN (or
// showed the direction drained). It clears the readable (or writable) and
// error bits rd reported, only if no event arrived since rd was observed
// (otherwise the new readiness must not be lost), and then rearms the driver
// for that direction. The error bit goes too because the kernel reports an
// error once (a datagram socket's ICMP refusal, a reset) and then blocks like
// any other socket; the closed bits stay, since data may precede the end of
// the stream and the end must still be seen after it. It returns the
// driver's error, or future.ErrClosed after Deregister (also when a
// Deregister on another goroutine overtakes it).
func (g *Registration) ClearReady(rd Ready) error {
	clear := uint32(rd.Readiness) & uint32(driver.Readable|driver.Writable|driver.Error)
	for {
		s := g.state.Load()
		if s&closedFlag != 0 {
			return future.ErrClosed
		}
		if uint16((s&tickMask)>>tickShift) != rd.tick || s&clear == 0 {
			return nil // newer readiness arrived, or nothing to clear
		}
		if g.state.CompareAndSwap(s, s&^clear) {
			break
		}
	}
	if err := g.reactor.drv.Rearm(g.fd, g.token, rd.dir); err != nil {
		if g.state.Load()&closedFlag != 0 {
			// Deregister ran between the check above and the rearm: the
			// driver's "not registered" is only its echo.
			return future.ErrClosed
		}
		return fmt.Errorf("libasync: rearm fd: %w", err)
	}
	return nil
}

// Release removes w as the waiter of dir, if it still is, so that another
// task may wait on dir. A future abandoned while Pending calls it with the
// waker of its last poll.
func (g *Registration) Release(dir driver.Interest, w future.Waker) {
	if dirMask(dir) == 0 {
		return
	}
	i := dirIndex(dir)
	g.mu.Lock()
	if g.waiters[i].WillWake(w) {
		g.waiters[i] = future.Waker{}
	}
	g.mu.Unlock()
}

// Deregister stops watching the fd; call it before closing the fd. Events
// already taken from the driver for it are dropped, waiters are woken and
// then see future.ErrClosed. A second Deregister returns future.ErrClosed.
func (g *Registration) Deregister() error {
	released := g.reactor.release(g)
	g.shut()
	if !released {
		return future.ErrClosed
	}
	if err := g.reactor.drv.Deregister(g.fd); err != nil {
		return fmt.Errorf("libasync: deregister fd: %w", err)
	}
	return nil
}
