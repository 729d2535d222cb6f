package executor

import "sync/atomic"

// inbox is an intrusive multi-producer single-consumer queue of tasks
// (Vyukov's design): push is one atomic swap from any goroutine, pop is done
// by the one goroutine that runs the executor. A task is in at most one queue
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

// ring is a growable FIFO of tasks, used by one goroutine only.
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

// taskList is the intrusive list of an executor's live tasks, so that
// shutdown can drop the ones still pending (owner only).
type taskList struct {
	head *header
	n    int
}

func (l *taskList) add(h *header) {
	h.listed = true
	h.lprev = nil
	h.lnext = l.head
	if l.head != nil {
		l.head.lprev = h
	}
	l.head = h
	l.n++
}

func (l *taskList) remove(h *header) {
	if !h.listed {
		return
	}
	if h.lprev != nil {
		h.lprev.lnext = h.lnext
	} else {
		l.head = h.lnext
	}
	if h.lnext != nil {
		h.lnext.lprev = h.lprev
	}
	h.lprev, h.lnext, h.listed = nil, nil, false
	l.n--
}
