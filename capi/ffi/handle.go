//go:build (darwin || linux || netbsd || windows) && (amd64 || arm64)

package ffi

import (
	"sync"
	"sync/atomic"
)

// Handle is a 64-bit object reference of the C ABI: the kind in the top 8
// bits, a generation in the next 24 and a slot index in the low 32. Kinds
// start at 1, so no handle is 0.
type Handle uint64

// Kind says what a handle refers to.
type Kind uint8

// The kinds of handles.
const (
	KindRuntime Kind = 1 + iota
	KindTask
	KindFuture
	KindNotifier
	KindListener
	KindStream
	// KindTaskWaker is the data of runtime-made wakers given to a foreign
	// future's poll: it wakes the task.
	KindTaskWaker
	// KindNotifierWaker is the data of wakers made by a notifier: waking
	// queues a tag.
	KindNotifierWaker
	// KindWatch is a host's descriptor watched for readiness
	// (async_fd_watch).
	KindWatch
	// KindUser is the first kind free for other users of a Table.
	KindUser
)

// Kind returns the kind encoded in h.
func (h Handle) Kind() Kind { return Kind(h >> 56) }

func (h Handle) index() uint32 { return uint32(h) }

const (
	chunkBits = 10
	chunkSize = 1 << chunkBits
	maxChunks = 1 << 14 // 16 Mi live handles
	nShards   = 16
	genMask   = 1<<24 - 1
)

// Table maps handles to Go objects. Lookups take no lock: a slot holds an
// atomic pointer to an immutable entry that carries the full handle, so a
// stale handle (an older generation) or one of another kind never matches.
// Inserts and removals take the lock of one of 16 shards, chosen round-robin,
// so many threads creating handles at once rarely meet.
type Table struct {
	chunks [maxChunks]atomic.Pointer[chunk]
	shards [nShards]shard
	// next spreads inserts over the shards; it orders nothing.
	next atomic.Uint32
	// growMu serialises the allocation of chunks (rare).
	growMu sync.Mutex
}

type chunk [chunkSize]slot

type slot struct {
	e   atomic.Pointer[entry]
	gen uint32 // owned by the slot's shard, under its lock
}

type entry struct {
	h   Handle
	obj any
}

// shard owns the slot indexes i with i % nShards == its number.
type shard struct {
	mu   sync.Mutex
	free []uint32
	top  uint32 // slots of this shard ever used
	_    [40]byte
}

// ErrTableFull is returned by Insert when every slot holds a live handle.
var ErrTableFull = Errorf(EINVAL, "libasync: too many live handles")

// Insert stores obj under a new handle of kind k.
func (t *Table) Insert(k Kind, obj any) (Handle, error) {
	si := t.next.Add(1) % nShards
	s := &t.shards[si]
	s.mu.Lock()
	var idx uint32
	if n := len(s.free); n > 0 {
		idx = s.free[n-1]
		s.free = s.free[:n-1]
	} else {
		idx = s.top*nShards + si
		if idx/chunkSize >= maxChunks {
			s.mu.Unlock()
			return 0, ErrTableFull
		}
		s.top++
	}
	sl := t.slot(idx, true)
	sl.gen = (sl.gen + 1) & genMask
	h := Handle(k)<<56 | Handle(sl.gen)<<32 | Handle(idx)
	// The store publishes the entry (and obj, written before) to lookups,
	// which load the pointer.
	sl.e.Store(&entry{h: h, obj: obj})
	s.mu.Unlock()
	return h, nil
}

// slot returns the slot of idx, allocating its chunk when grow is set (the
// caller holds its shard's lock), or nil when the chunk does not exist.
func (t *Table) slot(idx uint32, grow bool) *slot {
	ci := idx >> chunkBits
	if ci >= maxChunks {
		return nil
	}
	c := t.chunks[ci].Load()
	if c == nil {
		if !grow {
			return nil
		}
		t.growMu.Lock()
		if c = t.chunks[ci].Load(); c == nil {
			c = new(chunk)
			// Published by the store: lookups that load it see a
			// zeroed chunk.
			t.chunks[ci].Store(c)
		}
		t.growMu.Unlock()
	}
	return &c[idx&(chunkSize-1)]
}

// lookup returns the live entry of h, or nil.
func (t *Table) lookup(h Handle) (*slot, *entry) {
	if h.Kind() == 0 {
		return nil, nil
	}
	sl := t.slot(h.index(), false)
	if sl == nil {
		return nil, nil
	}
	e := sl.e.Load()
	if e == nil || e.h != h {
		return nil, nil
	}
	return sl, e
}

// Get returns the object of h, or false if h is not live. The caller checks
// the kind (h.Kind()) when it expects one.
func (t *Table) Get(h Handle) (any, bool) {
	_, e := t.lookup(h)
	if e == nil {
		return nil, false
	}
	return e.obj, true
}

// Remove releases h and returns its object; false if h was not live (so a
// second Remove of one handle fails). Exactly one of concurrent Removes wins.
func (t *Table) Remove(h Handle) (any, bool) {
	sl, e := t.lookup(h)
	if e == nil {
		return nil, false
	}
	// The CAS decides which remover wins; lookups that loaded e before it
	// may still use the object, which the garbage collector keeps alive.
	if !sl.e.CompareAndSwap(e, nil) {
		return nil, false
	}
	idx := h.index()
	s := &t.shards[idx%nShards]
	s.mu.Lock()
	s.free = append(s.free, idx)
	s.mu.Unlock()
	return e.obj, true
}

// Handles is the table of every object that crosses the C ABI of this
// process. Runtime-made wakers carry its handles, so it is one per process.
var Handles Table
