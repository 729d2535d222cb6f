//go:build linux

// Package epoll provides the Linux readiness driver, "epoll": edge-triggered
// epoll with an eventfd for Wake. Importing it makes driver.Open("epoll")
// work; it is the default driver on Linux.
package epoll

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/driver/wakefd"
	"golang.org/x/sys/unix"
)

// name is the name the driver is provided under.
const name = "epoll"

func init() { driver.Provide(name, Open) }

// poller implements driver.Driver on epoll. The kernel's epoll_event
// carries the token, as mio keeps it, so Wait translates events without a
// lookup; an event of an fd deregistered meanwhile carries its old token,
// which the user's generations recognise (see driver's Tokens).
type poller struct {
	epfd int
	wake *wakefd.FD // registered level-triggered, with driver.ReservedToken
	// closed is stored under mu's write lock and read under either lock,
	// so that Close never closes epfd under an epoll_ctl (its number could
	// be reused by then). Wait reads it without: a stale false there is a
	// Close during Wait, against the contract.
	closed atomic.Bool

	// mu guards registered and closed's transition.
	mu sync.RWMutex
	// registered[fd] says whether fd is registered, for Rearm, which makes
	// no system call yet must refuse an fd that is not. Wait never reads it.
	registered []bool

	buf []unix.EpollEvent // owned by the one goroutine in Wait
}

// Open creates an epoll driver.
func Open() (driver.Driver, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll: epoll_create1: %w", err)
	}
	wake, err := wakefd.New()
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("epoll: wake-up fd: %w", err)
	}
	// Level-triggered: the wake-up fd is reported until a Wait drains it,
	// so a Wake is never lost to a Wait whose events slice had no room.
	ev := unix.EpollEvent{Events: unix.EPOLLIN}
	setToken(&ev, driver.ReservedToken)
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wake.Fd(), &ev); err != nil {
		wake.Close()
		unix.Close(epfd)
		return nil, fmt.Errorf("epoll: register the wake-up fd: %w", err)
	}
	return &poller{epfd: epfd, wake: wake}, nil
}

func (p *poller) Name() string { return name }

// setToken stores t in the 64 bits of user data of the kernel's event,
// which x/sys splits into Fd and Pad; token reads it back. Only these two
// functions interpret the halves, so the byte order does not matter.
func setToken(ev *unix.EpollEvent, t driver.Token) {
	ev.Fd, ev.Pad = int32(uint32(t)), int32(uint32(t>>32))
}

func token(ev *unix.EpollEvent) driver.Token {
	return driver.Token(uint32(ev.Fd)) | driver.Token(uint32(ev.Pad))<<32
}

// PollFD returns the epoll descriptor (driver.Pollable).
func (p *poller) PollFD() driver.FD { return p.epfd }

// flags returns the epoll events for interest, always edge-triggered.
// EPOLLERR and EPOLLHUP are reported by the kernel whatever is asked.
func flags(interest driver.Interest) uint32 {
	f := uint32(unix.EPOLLET)
	if interest&driver.Read != 0 {
		f |= unix.EPOLLIN | unix.EPOLLRDHUP
	}
	if interest&driver.Write != 0 {
		f |= unix.EPOLLOUT
	}
	return f
}

// readiness maps epoll events to the contract's bits. As in mio: EPOLLRDHUP
// is the peer's shutdown of its write side (read-closed); EPOLLHUP means
// both directions are finished; EPOLLERR is a pending error, and also ends
// writing (it is all a pipe's write end gets when the reader goes away).
// EPOLLIN, EPOLLRDHUP and EPOLLOUT come only when asked for, so Readable
// and Writable follow the interest; the closed bits and Error of a hang-up
// or an error may concern a direction not watched, which the contract
// allows.
func readiness(ev uint32) driver.Readiness {
	var r driver.Readiness
	if ev&unix.EPOLLIN != 0 {
		r |= driver.Readable
	}
	if ev&unix.EPOLLOUT != 0 {
		r |= driver.Writable
	}
	if ev&(unix.EPOLLRDHUP|unix.EPOLLHUP) != 0 {
		r |= driver.ReadClosed
	}
	if ev&(unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		r |= driver.WriteClosed
	}
	if ev&unix.EPOLLERR != 0 {
		r |= driver.Error
	}
	return r
}

// ctlError wraps an epoll_ctl failure in the driver error that says what
// went wrong, keeping the errno for errors.Is too.
func ctlError(op string, fd driver.FD, err error) error {
	var kind error
	switch {
	case errors.Is(err, unix.EBADF):
		kind = driver.ErrInvalid
	case errors.Is(err, unix.EPERM):
		kind = driver.ErrNotSupported // regular files, directories
	case errors.Is(err, unix.EEXIST):
		kind = driver.ErrRegistered
	case errors.Is(err, unix.ENOENT):
		kind = driver.ErrNotRegistered
	default:
		return fmt.Errorf("epoll: %s fd %d: %w", op, fd, err)
	}
	return fmt.Errorf("epoll: %s fd %d: %w: %w", op, fd, kind, err)
}

func errNotRegistered(op string, fd driver.FD) error {
	return fmt.Errorf("epoll: %s fd %d: %w", op, fd, driver.ErrNotRegistered)
}

// isRegistered reports whether fd is registered; the caller holds mu.
func (p *poller) isRegistered(fd driver.FD) bool {
	return fd >= 0 && fd < len(p.registered) && p.registered[fd]
}

func (p *poller) Register(fd driver.FD, token driver.Token, interest driver.Interest) error {
	if err := driver.CheckArgs(name, "register", fd, token, interest); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed.Load() {
		return driver.ClosedError(name, "register")
	}
	if p.isRegistered(fd) {
		return fmt.Errorf("epoll: register fd %d: %w", fd, driver.ErrRegistered)
	}
	ev := unix.EpollEvent{Events: flags(interest)}
	setToken(&ev, token)
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return ctlError("register", fd, err)
	}
	if fd >= len(p.registered) {
		// Doubling keeps Register amortised O(1).
		grown := make([]bool, max(fd+1, 2*len(p.registered), 64))
		copy(grown, p.registered)
		p.registered = grown
	}
	p.registered[fd] = true
	return nil
}

// Rearm only validates: with EPOLLET the kernel queues the fd again on the
// next readiness change, data arriving after the EAGAIN included. The check
// that fd is registered costs a read lock, and catches a reactor's misuse.
func (p *poller) Rearm(fd driver.FD, token driver.Token, interest driver.Interest) error {
	if err := driver.CheckArgs(name, "rearm", fd, token, interest); err != nil {
		return err
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed.Load() {
		return driver.ClosedError(name, "rearm")
	}
	if !p.isRegistered(fd) {
		return errNotRegistered("rearm", fd)
	}
	return nil
}

// Deregister forgets fd even when epoll_ctl fails (the fd was closed before
// it was deregistered, against the contract): the registration is gone
// either way, and its fd number must be registrable again.
func (p *poller) Deregister(fd driver.FD) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed.Load() {
		return driver.ClosedError(name, "deregister")
	}
	if !p.isRegistered(fd) {
		return errNotRegistered("deregister", fd)
	}
	p.registered[fd] = false
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, fd, nil); err != nil {
		return ctlError("deregister", fd, err)
	}
	return nil
}

// msec converts a positive timeout to epoll_wait's milliseconds, rounding up
// so that the kernel never wakes before it, and capping at what fits in an
// int32 (Wait then waits again for the rest).
func msec(d time.Duration) int {
	if d >= math.MaxInt32*time.Millisecond {
		return math.MaxInt32 // also keeps the rounding below from overflowing
	}
	return int((d + time.Millisecond - 1) / time.Millisecond)
}

func (p *poller) Wait(events []driver.Event, timeout time.Duration) (int, error) {
	if err := driver.CheckEvents(name, events); err != nil {
		return 0, err
	}
	if p.closed.Load() {
		return 0, driver.ClosedError(name, "wait")
	}
	if cap(p.buf) < len(events) {
		p.buf = make([]unix.EpollEvent, len(events))
	}
	buf := p.buf[:len(events)]
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	for {
		ms := -1
		if timeout == 0 {
			ms = 0
		} else if timeout > 0 {
			left := time.Until(deadline)
			if left <= 0 {
				return 0, nil
			}
			ms = msec(left)
		}
		n, err := unix.EpollWait(p.epfd, buf, ms)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("epoll: epoll_wait: %w", err)
		}
		filled, woken := p.translate(buf[:n], events)
		if filled > 0 || woken || timeout == 0 {
			return filled, nil
		}
		// Nothing: the timeout passed (Wait checks the clock again, as
		// the kernel's rounding may differ from ours).
	}
}

// translate turns kernel events into the contract's events, draining the
// wake-up fd if a Wake is among them.
func (p *poller) translate(in []unix.EpollEvent, out []driver.Event) (filled int, woken bool) {
	for i := range in {
		tok := token(&in[i])
		if tok == driver.ReservedToken {
			woken = true
			continue
		}
		if r := readiness(in[i].Events); r != 0 {
			out[filled] = driver.Event{Token: tok, Readiness: r}
			filled++
		}
	}
	if woken {
		// Wakes that overlap the drain are served by this Wait returning.
		p.wake.Drain()
	}
	return filled, woken
}

func (p *poller) Wake() error {
	if err := p.wake.Wake(); err != nil {
		return fmt.Errorf("epoll: wake: %w", err)
	}
	return nil
}

func (p *poller) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed.Load() {
		return driver.ClosedError(name, "close")
	}
	p.closed.Store(true)
	p.registered = nil
	return errors.Join(p.wake.Close(), unix.Close(p.epfd))
}
