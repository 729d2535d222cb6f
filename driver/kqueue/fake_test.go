//go:build unix

package kqueue

import (
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fakeKernel is a kqueue simulated in Go, behind the driver's kernel seam, so
// that the driver's logic is tested where no kqueue exists. It follows the
// BSD kernels where the driver depends on them: changes are applied in
// order before events are collected; a refused change (or any, with
// EV_RECEIPT) takes a slot of the event list with EV_ERROR, and then the
// call returns without collecting events; a refused change with no slot
// left fails the call; EV_CLEAR filters report each activation once.
type fakeKernel struct {
	mu     sync.Mutex
	feat   features
	nextFD int
	files  map[int]*fakeFile
	kqs    map[int]map[knoteKey]bool // kq -> filters, true while active
	signal chan struct{}             // closed and replaced on every change of state

	calls    []fakeCall // every kevent call, in order
	writes   int        // writes to pipes
	blocked  int        // kevent calls blocked now
	eintr    int        // that many blocking calls fail with EINTR
	early    int        // that many calls with a timeout return at once
	overflow bool       // a refused change found no slot: the driver's bug
}

type fakeCall struct {
	changes []kev
	nevents int
	block   bool // the call could block (no timeout or a positive one)
}

type knoteKey struct {
	ident  uint64
	filter filter
}

// fakeFile is a socket whose state the test sets, or one end of a pipe.
type fakeFile struct {
	readable, writable, eof bool
	soError                 uint32 // reported in fflags with EOF
	pipePeer                int    // the read end, for a pipe's write end
	isPipe                  bool
	buffered                int // bytes in a pipe's read end
}

const fakePipeCapacity = 4

func newFake(feat features) *fakeKernel {
	return &fakeKernel{feat: feat, nextFD: 3, files: map[int]*fakeFile{},
		kqs: map[int]map[knoteKey]bool{}, signal: make(chan struct{})}
}

// changed wakes blocked calls. Called with mu held.
func (k *fakeKernel) changed() {
	close(k.signal)
	k.signal = make(chan struct{})
}

func (k *fakeKernel) newFD() int {
	fd := k.nextFD
	k.nextFD++
	return fd
}

func (k *fakeKernel) kqueue() (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	fd := k.newFD()
	k.kqs[fd] = map[knoteKey]bool{}
	return fd, nil
}

// ready reports whether the filter's condition holds. Called with mu held.
func (k *fakeKernel) ready(key knoteKey) bool {
	f := k.files[int(key.ident)]
	switch {
	case f == nil:
		return false
	case f.isPipe:
		return key.filter == filterRead && f.buffered > 0
	case key.filter == filterRead:
		return f.readable || f.eof
	}
	return f.writable || f.eof
}

// record is what the kernel reports for an active filter.
func (k *fakeKernel) record(key knoteKey) kev {
	r := kev{ident: key.ident, filter: key.filter, flags: evAdd | evClear}
	if f := k.files[int(key.ident)]; f != nil && f.eof {
		r.flags |= evEOF
		r.fflags = f.soError
	}
	return r
}

// register applies one change, returning the errno it is refused with.
func (k *fakeKernel) register(notes map[knoteKey]bool, c kev) unix.Errno {
	key := knoteKey{c.ident, c.filter}
	if c.filter == filterUser {
		if !k.feat.userFilter {
			return unix.EINVAL
		}
		_, ok := notes[key]
		switch {
		case c.flags&evAdd != 0:
			notes[key] = notes[key] || c.fflags&noteTrigger != 0
		case !ok:
			return unix.ENOENT
		case c.fflags&noteTrigger != 0:
			notes[key] = true
		}
		return 0
	}
	if k.files[int(c.ident)] == nil {
		return unix.EBADF
	}
	switch {
	case c.flags&evAdd != 0:
		notes[key] = k.ready(key)
	case c.flags&evDelete != 0:
		if _, ok := notes[key]; !ok {
			return unix.ENOENT
		}
		delete(notes, key)
	}
	return 0
}

func (k *fakeKernel) kevent(kq int, changes, events []kev, timeout *time.Duration, _ *scratch) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	notes, ok := k.kqs[kq]
	if !ok {
		return 0, unix.EBADF
	}
	k.calls = append(k.calls, fakeCall{slices.Clone(changes), len(events), timeout == nil || *timeout > 0})
	nerr := 0
	for _, c := range changes {
		if c.flags&evReceipt != 0 && !k.feat.receipt {
			return 0, unix.EINVAL
		}
		errno := k.register(notes, c)
		if errno == 0 && c.flags&evReceipt == 0 {
			continue
		}
		if nerr == len(events) {
			if errno != 0 {
				k.overflow = true
				return 0, errno
			}
			continue
		}
		events[nerr] = kev{ident: c.ident, filter: c.filter, flags: evError, data: int64(errno)}
		nerr++
	}
	if len(changes) > 0 {
		k.changed()
	}
	if nerr > 0 {
		return nerr, nil
	}
	var deadline <-chan time.Time
	if timeout != nil && *timeout > 0 {
		timer := time.NewTimer(*timeout)
		defer timer.Stop()
		deadline = timer.C
	}
	for {
		n := 0
		keys := make([]knoteKey, 0, len(notes))
		for key, active := range notes {
			if active {
				keys = append(keys, key)
			}
		}
		slices.SortFunc(keys, func(a, b knoteKey) int {
			if a.ident != b.ident {
				return int(a.ident) - int(b.ident)
			}
			return int(a.filter) - int(b.filter)
		})
		for _, key := range keys {
			if n == len(events) {
				break
			}
			events[n] = k.record(key)
			notes[key] = false // EV_CLEAR
			n++
		}
		if n > 0 || len(events) == 0 || (timeout != nil && *timeout == 0) {
			return n, nil
		}
		if k.eintr > 0 {
			k.eintr--
			return 0, unix.EINTR
		}
		if k.early > 0 && timeout != nil {
			k.early--
			return 0, nil
		}
		signal := k.signal
		k.blocked++
		k.mu.Unlock()
		timedOut := false
		select {
		case <-signal:
		case <-deadline:
			timedOut = true
		}
		k.mu.Lock()
		k.blocked--
		if _, ok := k.kqs[kq]; !ok {
			return 0, unix.EBADF
		}
		if timedOut {
			return 0, nil
		}
	}
}

// wakeup returns a wake-up descriptor on a simulated pipe.
func (k *fakeKernel) wakeup() (wakeup, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	r, w := k.newFD(), k.newFD()
	k.files[r] = &fakeFile{isPipe: true}
	k.files[w] = &fakeFile{isPipe: true, pipePeer: r}
	return &fakeWakeup{k: k, r: r, w: w}, nil
}

// fakeWakeup is the wake-up descriptor of the simulated systems without
// EVFILT_USER: a pipe, written and drained as package wakefd does.
type fakeWakeup struct {
	k    *fakeKernel
	r, w int
}

func (f *fakeWakeup) Fd() int { return f.r }

func (f *fakeWakeup) Wake() error {
	if _, err := f.k.write(f.w, []byte{1}); err != nil && err != unix.EAGAIN {
		return err
	}
	return nil
}

func (f *fakeWakeup) Drain() {
	var buf [fakePipeCapacity]byte
	for {
		if n, err := f.k.read(f.r, buf[:]); err != nil || n < len(buf) {
			return
		}
	}
}

func (f *fakeWakeup) Close() error {
	err := f.k.close(f.r)
	if werr := f.k.close(f.w); err == nil {
		err = werr
	}
	return err
}

func (k *fakeKernel) read(fd int, p []byte) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	f := k.files[fd]
	if f == nil || !f.isPipe {
		return 0, unix.EBADF
	}
	if f.buffered == 0 {
		return 0, unix.EAGAIN
	}
	n := min(len(p), f.buffered)
	f.buffered -= n
	return n, nil
}

func (k *fakeKernel) write(fd int, p []byte) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	f := k.files[fd]
	if f == nil || !f.isPipe {
		return 0, unix.EBADF
	}
	r := k.files[f.pipePeer]
	if r.buffered+len(p) > fakePipeCapacity {
		return 0, unix.EAGAIN
	}
	k.writes++
	r.buffered += len(p)
	k.activate(f.pipePeer)
	return len(p), nil
}

func (k *fakeKernel) close(fd int) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.kqs[fd]; ok {
		delete(k.kqs, fd)
		k.changed()
		return nil
	}
	if _, ok := k.files[fd]; !ok {
		return unix.EBADF
	}
	delete(k.files, fd)
	// Closing a descriptor removes its filters from every kqueue.
	for _, notes := range k.kqs {
		for key := range notes {
			if key.ident == uint64(fd) && key.filter != filterUser {
				delete(notes, key)
			}
		}
	}
	return nil
}

// activate marks fd's filters whose condition holds as active (a new edge).
// Called with mu held.
func (k *fakeKernel) activate(fd int) {
	for _, notes := range k.kqs {
		for key := range notes {
			if key.ident == uint64(fd) && key.filter != filterUser && k.ready(key) {
				notes[key] = true
			}
		}
	}
	k.changed()
}

// socket returns a new fake socket's descriptor.
func (k *fakeKernel) socket() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	fd := k.newFD()
	k.files[fd] = &fakeFile{}
	return fd
}

// set changes a socket's state, as data or a peer's close would.
func (k *fakeKernel) set(fd int, change func(f *fakeFile)) {
	k.mu.Lock()
	defer k.mu.Unlock()
	change(k.files[fd])
	k.activate(fd)
}

// waitBlocked waits until a kevent call is blocked.
func (k *fakeKernel) waitBlocked(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		k.mu.Lock()
		b := k.blocked
		k.mu.Unlock()
		if b > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no kevent call blocked")
		}
		time.Sleep(time.Millisecond)
	}
}

// snapshot returns the calls so far and the number of open descriptors.
func (k *fakeKernel) snapshot() (calls []fakeCall, open int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.calls), len(k.files) + len(k.kqs)
}
