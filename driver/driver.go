// Package driver defines the readiness-driver contract that libasync's
// reactor sits on, and the registry through which executors open a driver by
// name. Implementations live in the sub-packages (epoll, kqueue, iocp, poll),
// one per operating-system facility; they register themselves when imported.
//
// # Semantics
//
// Every driver is edge-triggered: an Event says that a direction became
// ready, not that it is ready now. After an event the user performs I/O until
// the operating system answers EAGAIN (EWOULDBLOCK), then calls Rearm, which
// re-checks the current state so that data that arrived after the EAGAIN is
// still reported. A driver may report spurious events (the user's I/O then
// answers EAGAIN, and the user rearms); it never loses one: a direction that
// became ready after the last Rearm (or Register) of the interest that
// covers it is reported by a later Wait.
//
// # Concurrency
//
// Register, Rearm, Deregister and Wake may be called from any goroutine,
// also while another goroutine is blocked in Wait, and take effect in that
// Wait. Wait is never called concurrently with itself. Close may be called
// once no goroutine is in Wait and none will call in again; calls after
// Close return an error wrapping ErrClosed.
//
// # Tokens
//
// A Token is the user's, any value but ReservedToken: the driver reports it
// back unchanged. The reactor puts a generation in its tokens, so that an
// event of an fd that was deregistered while the event was in flight
// (already taken from the kernel by a Wait running concurrently with the
// Deregister) is recognised and dropped. After Deregister returns, no Wait
// that starts later reports the fd.
package driver

import (
	"errors"
	"time"
)

// Token identifies a registration in the events a driver reports.
type Token uint64

// ReservedToken is the one Token a registration may not carry: a driver may
// mark its own events with it (epoll keeps the token in the kernel's event,
// and its wake-up's event carries this one). Register refuses it with an
// error wrapping ErrInvalid.
const ReservedToken = ^Token(0)

// Interest says which directions of an fd a registration watches.
type Interest uint8

// Valid reports whether i is Read, Write or both: the interests every
// method of a Driver accepts (others give an error wrapping ErrInvalid).
func (i Interest) Valid() bool { return i != 0 && i&^(Read|Write) == 0 }

// The directions of an Interest.
const (
	Read  Interest = 1 << iota // report readability (and read-closed, error)
	Write                      // report writability (and write-closed, error)
)

// Readiness is what an Event reports about an fd, a set of bits.
type Readiness uint8

// The bits of a Readiness. They follow mio's split: the peer closing its
// write side (EPOLLRDHUP, EV_EOF on a read filter, AFD_POLL_DISCONNECT) is
// ReadClosed; the connection being unusable for writing (EPOLLHUP, EV_EOF on
// a write filter, AFD_POLL_ABORT) is WriteClosed; a pending socket error
// (EPOLLERR, EV_ERROR, POLLERR, AFD_POLL_CONNECT_FAIL) is Error.
const (
	Readable Readiness = 1 << iota
	Writable
	ReadClosed
	WriteClosed
	Error
)

// Event is one readiness report: the registration's token and what became
// ready. Readable is reported only for registrations with the Read interest
// and Writable only for Write. ReadClosed, WriteClosed and Error may come for
// a direction outside the interest, as kernels report hang-ups and errors
// whatever was asked (epoll's EPOLLHUP and EPOLLERR, reported with a token
// and nothing else); the user reads the bits of the directions it watches.
type Event struct {
	Token     Token
	Readiness Readiness
}

// Driver is a readiness poller for one operating-system facility.
type Driver interface {
	// Register starts watching fd for interest (Read, Write or both),
	// reporting token. The fd must be non-blocking and not registered yet.
	// If fd is already ready, the first Wait reports it. Errors wrap
	// ErrInvalid (an invalid or closed fd, an interest that is not Valid,
	// ReservedToken),
	// ErrNotSupported (a kind of fd the facility cannot watch) or
	// ErrRegistered.
	Register(fd FD, token Token, interest Interest) error
	// Rearm re-enables reporting for interest after the user drained a
	// direction to EAGAIN. Where edges are native (epoll, kqueue) it is a
	// cheap no-op; drivers that emulate edges re-check the fd's state here,
	// so readiness that arrived after the EAGAIN is reported. token and
	// interest are the registration's (or the part of its interest that was
	// drained); directions outside the registration's interest are ignored.
	// Errors wrap ErrNotRegistered or ErrInvalid.
	Rearm(fd FD, token Token, interest Interest) error
	// Deregister stops watching fd. It must be called before fd is closed.
	// Events for fd already taken by a concurrent Wait may still be
	// returned by that Wait; later Waits never report fd. An fd not
	// registered gives an error wrapping ErrNotRegistered.
	Deregister(fd FD) error
	// Wait blocks until at least one event is available, Wake is called, or
	// timeout passes, then fills events (up to len(events)) and returns how
	// many it filled; an empty events slice gives an error wrapping
	// ErrInvalid. timeout < 0 blocks without limit; 0 never blocks. A
	// timeout never ends early (it is rounded up to the facility's
	// resolution). Events that do not fit stay for the next Wait. A Wake
	// makes Wait return, possibly with n == 0; an interrupted system call is
	// retried.
	Wait(events []Event, timeout time.Duration) (n int, err error)
	// Wake makes the current or next Wait return promptly. It is safe from
	// any goroutine; calls coalesce until that Wait returns.
	Wake() error
	// Close releases the driver. Registered fds are not closed. A second
	// Close gives an error wrapping ErrClosed.
	Close() error
	// Name returns the name the driver is registered under ("epoll", ...).
	Name() string
}

// The errors drivers wrap. Compare with errors.Is.
var (
	// ErrClosed: the driver was closed.
	ErrClosed = errors.New("driver: closed")
	// ErrNotRegistered: Rearm or Deregister of an fd not registered.
	ErrNotRegistered = errors.New("driver: fd not registered")
	// ErrRegistered: Register of an fd already registered.
	ErrRegistered = errors.New("driver: fd already registered")
	// ErrNotSupported: the driver cannot watch this kind of descriptor, or
	// no driver of that name exists in this build.
	ErrNotSupported = errors.New("driver: not supported")
	// ErrInvalid: a bad argument (an empty interest, an invalid fd).
	ErrInvalid = errors.New("driver: invalid argument")
)
