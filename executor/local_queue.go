package executor

import "sync/atomic"

// inbox is Local's queue of woken and spawned tasks, an intrusive
// multi-producer single-consumer queue (Vyukov's design): push is one atomic
// swap from any goroutine, pop is done by the one goroutine that runs the
// executor. A task is in at most one queue
// at a time (its stNotified bit says so), so its qnext link is free to use.
type inbox struct {
	head *header                // consumer only
	tail atomic.Pointer[header] // the last pushed node
	stub header                 // stands in when the queue is empty
}

func (q *inbox) init() {
	q.head = &q.stub
	q.tail.Store(&q.stub)
}

// push appends h; safe from any goroutine.
func (q *inbox) push(h *header) {
	h.qnext.Store(nil)
	// The swap orders the task's fields (written by whoever queued it)
	// before the consumer, which reaches h only through prev.qnext.
	prev := q.tail.Swap(h)
	prev.qnext.Store(h)
}

// pop removes the oldest task, or returns nil when the queue is empty or a
// producer is between its swap and its link (empty reports the difference).
func (q *inbox) pop() *header {
	head := q.head
	next := head.qnext.Load()
	if head == &q.stub {
		if next == nil {
			return nil
		}
		q.head = next
		head = next
		next = next.qnext.Load()
	}
	if next != nil {
		q.head = next
		return head
	}
	if q.tail.Load() != head {
		return nil // a producer swapped the tail but has not linked yet
	}
	q.push(&q.stub)
	if next = head.qnext.Load(); next != nil {
		q.head = next
		return head
	}
	return nil
}

// empty reports whether no task is queued or being queued (consumer only).
// A producer in the middle of push makes it false, so the consumer does not
// go to sleep while a task is on its way.
func (q *inbox) empty() bool {
	return q.head == &q.stub && q.tail.Load() == &q.stub
}

// ring is Local's run queue: a growable FIFO of tasks, used by one
// goroutine only.
type ring struct {
	buf        []*header
	head, size int
}

func (r *ring) push(h *header) {
	if r.size == len(r.buf) {
		n := max(2*len(r.buf), 64)
		buf := make([]*header, n)
		k := copy(buf, r.buf[r.head:])
		copy(buf[k:], r.buf[:r.head])
		r.buf, r.head = buf, 0
	}
	r.buf[(r.head+r.size)&(len(r.buf)-1)] = h
	r.size++
}

func (r *ring) pop() *header {
	if r.size == 0 {
		return nil
	}
	h := r.buf[r.head]
	r.buf[r.head] = nil
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.size--
	return h
}

func (r *ring) len() int { return r.size }
