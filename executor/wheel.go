package executor

import (
	"math"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libasync/libasync/future"
)

// The wheel's geometry: levels of 64 slots, each level's slot as long as the
// whole level below; with millisecond ticks six levels reach 64^6 ms (about
// 2.2 years) ahead. Deadlines beyond that wait in an overflow list that is
// re-sorted when the wheel's time reaches its horizon.
const (
	slotBits    = 6
	slotCount   = 1 << slotBits
	levelCount  = 6
	wheelSpan   = uint64(1) << (slotBits * levelCount)
	farLevel    = levelCount // the level number of entries in the overflow list
	unlinked    = -1         // the level number of entries in no list
	tickNanos   = int64(time.Millisecond)
	fireBatch   = 64 // wakers collected per lock hold while firing
	maxDeadline = math.MaxInt64
)

// epoch is the origin of every wheel's clock. Deadlines are nanoseconds since
// epoch, read through time.Since, which uses the monotonic clock.
var epoch = time.Now()

// nowNanos returns the monotonic time in nanoseconds since epoch.
func nowNanos() int64 { return int64(time.Since(epoch)) }

// deadlineAfter returns now + d in nanoseconds since epoch, saturating
// instead of overflowing for huge d.
func deadlineAfter(d time.Duration) int64 {
	now := nowNanos()
	if d <= 0 {
		return now
	}
	if int64(d) > maxDeadline-now {
		return maxDeadline
	}
	return now + int64(d)
}

// ceilTick rounds a deadline up to the wheel's next millisecond tick, so an
// entry never fires before its deadline.
func ceilTick(ns int64) uint64 {
	if ns <= 0 {
		return 0
	}
	return uint64((ns-1)/tickNanos) + 1
}

// floorTick returns the last tick that has fully begun at ns.
func floorTick(ns int64) uint64 {
	if ns <= 0 {
		return 0
	}
	return uint64(ns / tickNanos)
}

// timerEntry is the wheel's intrusive node. It lives inside the future that
// waits (Sleep, Interval), so a timer costs no allocation of its own. Its
// fields other than fired are guarded by the lock of the wheel it was
// inserted in; w is written only by the future's poller.
type timerEntry struct {
	prev, next *timerEntry
	when       uint64 // deadline tick
	waker      future.Waker
	w          *wheel
	level      int8
	slot       uint8
	// fired is set (under the wheel lock) when the entry expired, and read
	// without the lock by the poller as its fast path.
	fired atomic.Bool
}

// init readies a new entry: in no list, and already fired when due, so that
// a future whose deadline passed never touches a wheel.
func (e *timerEntry) init(due bool) {
	e.level = unlinked
	e.fired.Store(due)
}

// wheel is a hierarchical timing wheel. One goroutine at a time advances it
// (the executor loop that waits in the driver); futures insert, update and
// remove entries from whichever goroutine polls or drops them, under mu (a
// Runtime's workers share its one wheel). An entry stays in the wheel that
// first filed it.
type wheel struct {
	mu      sync.Mutex
	elapsed uint64 // the tick up to which entries have been processed
	levels  [levelCount]wheelLevel
	far     *timerEntry // entries beyond the last level's horizon

	// sleepUntil is the tick at which the goroutine waiting in the driver
	// looks at the wheel again (0: nobody waits on this wheel). Inserting
	// an earlier deadline calls kick (when set), which wakes that waiter so
	// it computes a new timeout; Local needs none, as only its own loop
	// inserts.
	sleepUntil uint64
	kick       func()

	inserted, fired, cascaded uint64 // counters, under mu
}

type wheelLevel struct {
	occupied uint64 // bit i: slots[i] is not empty
	slots    [slotCount]*timerEntry
}

func newWheel() *wheel {
	return &wheel{elapsed: floorTick(nowNanos())}
}

// insertLocked puts e (e.when set) into the wheel, or returns false if its
// tick has already been processed, in which case it is due now.
func (w *wheel) insertLocked(e *timerEntry) bool {
	if e.when <= w.elapsed {
		return false
	}
	w.link(e)
	w.inserted++
	return true
}

// link files e under the level where its deadline first differs from the
// wheel's time: level L holds entries due within the current slot of level
// L+1, so the lowest non-empty level always holds the earliest entries.
func (w *wheel) link(e *timerEntry) {
	diff := w.elapsed ^ e.when
	var head **timerEntry
	if diff >= wheelSpan {
		e.level = farLevel
		head = &w.far
	} else {
		level := (bits.Len64(diff|(slotCount-1)) - 1) / slotBits
		slot := uint8(e.when>>(uint(level)*slotBits)) & (slotCount - 1)
		e.level, e.slot = int8(level), slot
		l := &w.levels[level]
		l.occupied |= 1 << slot
		head = &l.slots[slot]
	}
	e.prev = nil
	e.next = *head
	if e.next != nil {
		e.next.prev = e
	}
	*head = e
}

// removeLocked takes e out of the wheel, if it is in it.
func (w *wheel) removeLocked(e *timerEntry) {
	if e.level == unlinked {
		return
	}
	if e.prev != nil {
		e.prev.next = e.next
	} else if e.level == farLevel {
		w.far = e.next
	} else {
		l := &w.levels[e.level]
		l.slots[e.slot] = e.next
		if e.next == nil {
			l.occupied &^= 1 << e.slot
		}
	}
	if e.next != nil {
		e.next.prev = e.prev
	}
	e.prev, e.next, e.level = nil, nil, unlinked
}

// nextExpiration returns the tick at which the wheel next has work: the
// start of the earliest occupied slot of the lowest non-empty level (exact
// for level 0; for higher levels the moment to cascade), or the horizon
// where the overflow list is re-sorted. level is that slot's level.
func (w *wheel) nextExpiration() (tick uint64, level int, ok bool) {
	for lv := range levelCount {
		occ := w.levels[lv].occupied
		if occ == 0 {
			continue
		}
		shift := uint(lv) * slotBits
		cur := uint((w.elapsed >> shift) & (slotCount - 1))
		// Rotate so that bit 0 is the current slot; slots before it
		// belong to the next turn of this level.
		off := uint(bits.TrailingZeros64(bits.RotateLeft64(occ, -int(cur))))
		levelStart := w.elapsed &^ (uint64(1)<<(shift+slotBits) - 1)
		t := levelStart + uint64(cur+off)<<shift
		return t, lv, true
	}
	if w.far != nil {
		return (w.elapsed &^ (wheelSpan - 1)) + wheelSpan, farLevel, true
	}
	return 0, 0, false
}

// armSleep returns the driver timeout until the wheel next has work (-1:
// none) and records it, so that an earlier insertion kicks the waiter.
func (w *wheel) armSleep() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, _, ok := w.nextExpiration()
	if !ok {
		w.sleepUntil = math.MaxUint64
		return -1
	}
	w.sleepUntil = max(t, 1)
	return timeoutUntil(t)
}

// insert files e (e.when set) and reports false if it is due already;
// it kicks a driver waiter that would sleep past e.
func (w *wheel) insert(e *timerEntry) bool {
	w.mu.Lock()
	if !w.insertLocked(e) {
		w.mu.Unlock()
		return false
	}
	kick := e.when < w.sleepUntil
	if kick {
		// One kick per sleep: the waiter re-arms when it wakes.
		w.sleepUntil = 0
	}
	w.mu.Unlock()
	if kick && w.kick != nil {
		w.kick()
	}
	return true
}

// nextDeadline returns the next tick at which advance has work to do.
func (w *wheel) nextDeadline() (uint64, bool) {
	w.mu.Lock()
	t, _, ok := w.nextExpiration()
	w.mu.Unlock()
	return t, ok
}

// advance processes the wheel up to tick now: entries due are unlinked and
// marked fired, and their wakers appended to buf; entries of coarser slots
// that have begun cascade to finer levels. It stops early when buf holds
// fireBatch wakers and then reports more, so that the caller wakes them
// outside the lock and calls again.
func (w *wheel) advance(now uint64, buf []future.Waker) (_ []future.Waker, more bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sleepUntil = 0 // the waiter is awake
	for {
		t, lv, ok := w.nextExpiration()
		if !ok || t > now {
			break
		}
		w.elapsed = t
		var list *timerEntry
		if lv == farLevel {
			list, w.far = w.far, nil
		} else {
			l := &w.levels[lv]
			slot := uint8(t>>(uint(lv)*slotBits)) & (slotCount - 1)
			list = l.slots[slot]
			l.slots[slot] = nil
			l.occupied &^= 1 << slot
		}
		for e := list; e != nil; {
			next := e.next
			e.prev, e.next, e.level = nil, nil, unlinked
			if e.when <= t {
				e.fired.Store(true)
				buf = append(buf, e.waker)
				e.waker = future.Waker{}
				w.fired++
			} else {
				w.link(e)
				w.cascaded++
			}
			e = next
		}
		if len(buf) >= fireBatch {
			return buf, true
		}
	}
	if now > w.elapsed {
		w.elapsed = now
	}
	return buf, false
}

// fire advances the wheel to the current time and wakes every expired
// entry's waker, outside the wheel's lock.
func (w *wheel) fire(buf []future.Waker) []future.Waker {
	now := floorTick(nowNanos())
	for {
		var more bool
		buf, more = w.advance(now, buf[:0])
		for i, wk := range buf {
			wk.Wake()
			buf[i] = future.Waker{}
		}
		if !more {
			return buf[:0]
		}
	}
}

// counters returns the wheel's counters.
func (w *wheel) counters() (inserted, fired, cascaded uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.inserted, w.fired, w.cascaded
}

// timeoutUntil converts the tick of the next deadline into a driver Wait
// timeout: the time until that tick begins, never less than zero.
func timeoutUntil(tick uint64) time.Duration {
	d := int64(tick)*tickNanos - nowNanos()
	if tick > uint64(maxDeadline/tickNanos) {
		return -1
	}
	return time.Duration(max(d, 0))
}
