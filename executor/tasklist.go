package executor

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
