package executor

import (
	"sync"
	"sync/atomic"
)

// The geometry of a worker's run queue.
const (
	runqSize = 256
	runqMask = runqSize - 1
)

// runQueue is a worker's fixed ring of runnable tasks: only its owner pushes
// (at the tail) and pops (at the head), and any other worker may steal half
// of it (from the head). Positions are free-running uint32 counters, so
// tail-head is the length even across wrap-around.
//
// head packs two positions: real (low 32 bits), the next task to pop, and
// steal (high 32 bits), where a stealer in progress started copying. Equal,
// nobody steals. A stealer first advances real past what it takes (claiming
// it), copies, then sets steal to real (releasing the slots). The owner
// counts free room from steal, so it never overwrites slots being copied,
// and pops from real, so it never takes a claimed task.
//
// Go's atomics are sequentially consistent, which covers every ordering
// below: a slot written by the owner is published by its tail store and read
// by a stealer after its tail load; a slot copied by a stealer is released by
// its CAS of head and overwritten by the owner only after a head load that
// saw that CAS. The slots themselves are plain words accessed by at most one
// goroutine at a time under that protocol.
type runQueue struct {
	head atomic.Uint64
	tail atomic.Uint32
	_    [52]byte // the positions on a cache line of their own
	buf  [runqSize]*header
}

func packHead(steal, real uint32) uint64 { return uint64(steal)<<32 | uint64(real) }

func unpackHead(v uint64) (steal, real uint32) { return uint32(v >> 32), uint32(v) }

// len is the number of queued tasks (any goroutine; a snapshot).
func (q *runQueue) len() int {
	_, real := unpackHead(q.head.Load())
	return int(q.tail.Load() - real)
}

// push appends h (owner only). When the ring is full it moves half of it,
// and h, to the injection queue, and reports how many tasks it moved there.
func (q *runQueue) push(h *header, inj *injectQueue) (injected int) {
	for {
		head := q.head.Load()
		steal, real := unpackHead(head)
		tail := q.tail.Load()
		if tail-steal < runqSize {
			q.buf[tail&runqMask] = h
			// Publishes the slot to stealers, which load tail first.
			q.tail.Store(tail + 1)
			return 0
		}
		if steal != real {
			// A stealer is freeing half the ring right now: this one task
			// takes the injection queue rather than waiting for it.
			inj.push(h)
			return 1
		}
		if n := q.overflow(head, real, h, inj); n > 0 {
			return n
		}
		// A stealer claimed tasks between the loads and the CAS; retry.
	}
}

// overflow moves the older half of a full ring, plus h, to the injection
// queue in one batch; 0 if a stealer got in first.
func (q *runQueue) overflow(head uint64, real uint32, h *header, inj *injectQueue) int {
	const half = runqSize / 2
	// Claiming the half by advancing both positions makes it the owner's
	// alone: stealers now start after it.
	if !q.head.CompareAndSwap(head, packHead(real+half, real+half)) {
		return 0
	}
	first := q.buf[real&runqMask]
	prev := first
	for i := uint32(1); i < half; i++ {
		t := q.buf[(real+i)&runqMask]
		prev.qnext.Store(t)
		prev = t
	}
	prev.qnext.Store(h)
	h.qnext.Store(nil)
	inj.pushBatch(first, h, half+1)
	return half + 1
}

// pop takes the oldest task (owner only), or nil.
func (q *runQueue) pop() *header {
	head := q.head.Load()
	for {
		steal, real := unpackHead(head)
		if real == q.tail.Load() {
			return nil
		}
		next := packHead(steal, real+1)
		if steal == real {
			next = packHead(real+1, real+1)
		}
		// The CAS takes the slot at real from stealers, who claim by the
		// same word.
		if q.head.CompareAndSwap(head, next) {
			return q.buf[real&runqMask]
		}
		head = q.head.Load()
	}
}

// stealInto moves about half of q's tasks into dst, whose owner calls it,
// and returns one of them to run at once (nil: nothing to take, or another
// stealer is at work on q). n is the number of tasks taken, the returned one
// included.
func (q *runQueue) stealInto(dst *runQueue) (h *header, n uint32) {
	dstTail := dst.tail.Load()
	dstSteal, _ := unpackHead(dst.head.Load())
	if dstTail-dstSteal > runqSize/2 {
		return nil, 0 // no room for half of a full ring
	}
	head := q.head.Load()
	var first uint32
	for {
		steal, real := unpackHead(head)
		if steal != real {
			return nil, 0
		}
		n = q.tail.Load() - real
		n -= n / 2
		if n == 0 {
			return nil, 0
		}
		// Claim [real, real+n) while keeping steal at real, so that the
		// owner does not reuse the slots before they are copied.
		if q.head.CompareAndSwap(head, packHead(steal, real+n)) {
			first = real
			break
		}
		head = q.head.Load()
	}
	for i := range n {
		dst.buf[(dstTail+i)&runqMask] = q.buf[(first+i)&runqMask]
	}
	// Release the slots: steal catches up with real (which the owner may
	// have advanced meanwhile by popping).
	head = packHead(first, first+n)
	for {
		_, real := unpackHead(head)
		if q.head.CompareAndSwap(head, packHead(real, real)) {
			break
		}
		head = q.head.Load()
	}
	last := dstTail + n - 1
	h = dst.buf[last&runqMask]
	if n > 1 {
		// Publishes the copied slots to dst's own stealers.
		dst.tail.Store(last)
	}
	return h, n
}

// injectQueue is the Runtime's global queue: spawns and wakes from outside
// the workers, and the overflow of full rings. A mutex guards the list; n
// lets workers see it empty without taking the lock.
type injectQueue struct {
	mu         sync.Mutex
	head, tail *header // linked through qnext
	// n is the length, written under mu; a lock-free load may be stale,
	// which costs a worker at most one needless lock or one late look
	// (a push is always followed by a notification that re-checks).
	n atomic.Int64
}

func (q *injectQueue) push(h *header) {
	h.qnext.Store(nil)
	q.pushBatch(h, h, 1)
}

// pushBatch appends the list first..last (linked, last.qnext nil) of n tasks.
func (q *injectQueue) pushBatch(first, last *header, n int) {
	q.mu.Lock()
	if q.tail == nil {
		q.head = first
	} else {
		q.tail.qnext.Store(first)
	}
	q.tail = last
	q.n.Add(int64(n))
	q.mu.Unlock()
}

func (q *injectQueue) empty() bool { return q.n.Load() == 0 }

// popBatch takes up to max tasks and returns them linked, oldest first.
func (q *injectQueue) popBatch(max int) (first *header, n int) {
	if q.empty() {
		return nil, 0
	}
	q.mu.Lock()
	first = q.head
	var last *header
	for h := first; h != nil && n < max; h = h.qnext.Load() {
		last = h
		n++
	}
	if last != nil {
		q.head = last.qnext.Load()
		last.qnext.Store(nil)
		if q.head == nil {
			q.tail = nil
		}
		q.n.Add(-int64(n))
	}
	q.mu.Unlock()
	return first, n
}
