//go:build (darwin || linux || netbsd || windows) && (amd64 || arm64)

package ffi

import (
	"sync"

	"github.com/libasync/libasync/driver/wakefd"
)

// Notifier lets a host's event loop learn which of its runtime-made wakers
// fired: each waker carries a tag, a wake queues the tag once (wakes of a
// queued tag coalesce), and a descriptor is readable while any tag is
// queued. Drain moves tags out without blocking.
type Notifier struct {
	mu     sync.Mutex
	fd     *wakefd.FD
	queued map[uint64]struct{}
	order  []uint64
	closed bool
}

// NewNotifier returns a notifier with its descriptor open.
func NewNotifier() (*Notifier, error) {
	fd, err := wakefd.New()
	if err != nil {
		return nil, &Error{Code: EIO, Msg: "libasync: notifier: " + err.Error(), Errno: ErrnoOf(err)}
	}
	return &Notifier{fd: fd, queued: make(map[uint64]struct{})}, nil
}

// Fd returns the descriptor that is readable while tags are queued: on
// Windows a SOCKET, for WSAPoll or select.
func (n *Notifier) Fd() int { return int(n.fd.Fd()) }

// NewWaker returns a new runtime-made waker reference that queues tag on n
// when woken. The caller owns it: wake or drop it once.
func (n *Notifier) NewWaker(tag uint64) (Waker, error) {
	nw := &notifierWaker{n: n, tag: tag}
	nw.refs.Store(1)
	h, err := Handles.Insert(KindNotifierWaker, nw)
	if err != nil {
		return Waker{}, err
	}
	return Waker{Data: uintptr(h), VTable: RuntimeVTable()}, nil
}

// Notify queues tag, unless it is queued already or n is closed.
func (n *Notifier) Notify(tag uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return
	}
	if _, ok := n.queued[tag]; ok {
		return
	}
	n.queued[tag] = struct{}{}
	n.order = append(n.order, tag)
	if len(n.order) == 1 {
		// It fails only when the descriptor is closed, or broken by the
		// host; Notify has no caller to tell either way.
		_ = n.fd.Wake()
	}
}

// Drain moves up to len(tags) queued tags into tags, oldest first, and
// returns how many; the descriptor stays readable while some remain.
func (n *Notifier) Drain(tags []uint64) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return 0
	}
	k := copy(tags, n.order)
	for _, t := range tags[:k] {
		delete(n.queued, t)
	}
	rest := copy(n.order, n.order[k:])
	n.order = n.order[:rest]
	// Cleared whenever the queue is empty, even when this drain took
	// nothing: on Windows a raise's byte may still be crossing the loopback
	// connection when an earlier clear runs, and then makes the descriptor
	// readable with nothing queued; the host's next drain clears it.
	if rest == 0 {
		n.fd.Drain()
	}
	return k
}

// Close closes the descriptor; later wakes of n's wakers do nothing.
func (n *Notifier) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return Errorf(EINVAL, "libasync: notifier closed twice")
	}
	n.closed = true
	n.queued, n.order = nil, nil
	return n.fd.Close()
}
