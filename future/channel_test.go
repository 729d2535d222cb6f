package future

import (
	"errors"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/libasync/libasync/internal/leakcheck"
)

func newChan[T any](t *testing.T, capacity int) *Channel[T] {
	t.Helper()
	c, err := NewChannel[T](capacity)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestChannelBadCapacity(t *testing.T) {
	leakcheck.Check(t)
	for _, n := range []int{0, -1} {
		if c, err := NewChannel[int](n); err == nil || c != nil {
			t.Errorf("NewChannel(%d) = %v, %v; want an error", n, c, err)
		}
	}
}

func TestChannelTryOps(t *testing.T) {
	leakcheck.Check(t)
	c := newChan[int](t, 2)
	var errs []error
	rec := func(err error) { errs = append(errs, err) }
	_, err := c.TryRecv()
	rec(err)
	rec(c.TrySend(1))
	rec(c.TrySend(2))
	rec(c.TrySend(3))
	v1, err := c.TryRecv()
	rec(err)
	c.Close()
	rec(c.TrySend(4))
	v2, err := c.TryRecv()
	rec(err)
	_, err = c.TryRecv()
	rec(err)
	want := []error{ErrEmpty, nil, nil, ErrFull, nil, ErrClosed, nil, ErrClosed}
	if diff := cmp.Diff(want, errs, cmp.Comparer(func(a, b error) bool { return a == b })); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if v1 != 1 || v2 != 2 || c.Cap() != 2 || c.Len() != 0 {
		t.Errorf("values %d, %d, cap %d, len %d", v1, v2, c.Cap(), c.Len())
	}
}

func TestChannelSendWaitsForRoom(t *testing.T) {
	leakcheck.Check(t)
	c := newChan[int](t, 1)
	c.TrySend(1)
	w := &wakeCounter{}
	send := c.Send(2)
	if pollWith[Result[struct{}]](send, w).IsReady() {
		t.Fatal("Send Ready on a full channel")
	}
	if v, _ := c.TryRecv(); v != 1 || w.Count() != 1 {
		t.Fatalf("received %d; sender woken %d times, want 1", v, w.Count())
	}
	if r, ok := pollWith[Result[struct{}]](send, w).Value(); !ok || r.Err != nil {
		t.Fatalf("Send after room = %v, %v", r, ok)
	}
	if v, _ := c.TryRecv(); v != 2 {
		t.Fatalf("received %d, want 2", v)
	}
}

// A Reset future is a new Send or Recv: it waits again, takes the next
// value, and a Reset of a waiting one leaves the queue (a later value wakes
// nobody stale).
func TestChannelResetFutures(t *testing.T) {
	leakcheck.Check(t)
	c := newChan[int](t, 1)
	w := &wakeCounter{}
	recv := c.Recv()
	send := c.Send(1)
	var got []int
	for i := 1; i <= 3; i++ {
		if i > 1 {
			send.Reset(i)
		}
		if r, ok := pollWith[Result[struct{}]](send, w).Value(); !ok || r.Err != nil {
			t.Fatalf("send %d = %v, %v", i, r, ok)
		}
		r, ok := pollWith[Result[int]](recv, w).Value()
		if !ok || r.Err != nil {
			t.Fatalf("recv %d = %v, %v", i, r, ok)
		}
		got = append(got, r.Value)
		recv.Reset()
	}
	if !slices.Equal(got, []int{1, 2, 3}) {
		t.Fatalf("received %v, want [1 2 3]", got)
	}
	// Waiting, then Reset: the wait is abandoned.
	if pollWith[Result[int]](recv, w).IsReady() {
		t.Fatal("Recv Ready on an empty channel")
	}
	recv.Reset()
	before := w.Count()
	c.TrySend(9)
	if w.Count() != before {
		t.Fatalf("a Reset receiver was woken")
	}
	if r, ok := pollWith[Result[int]](recv, w).Value(); !ok || r.Value != 9 {
		t.Fatalf("recv after Reset = %v, %v", r, ok)
	}
	// Reset of a waiting send abandons its value.
	c.TrySend(10)
	send.Reset(11)
	if pollWith[Result[struct{}]](send, w).IsReady() {
		t.Fatal("Send Ready on a full channel")
	}
	send.Reset(12)
	if v, _ := c.TryRecv(); v != 10 {
		t.Fatalf("received %d, want 10", v)
	}
	if v, err := c.TryRecv(); err != ErrEmpty {
		t.Fatalf("the abandoned send delivered %d", v)
	}
}

func TestChannelCloseWakesEveryone(t *testing.T) {
	leakcheck.Check(t)
	full := newChan[int](t, 1)
	full.TrySend(1)
	empty := newChan[int](t, 1)
	ws, wr := &wakeCounter{}, &wakeCounter{}
	send := full.Send(2)
	recv := empty.Recv()
	pollWith[Result[struct{}]](send, ws)
	pollWith[Result[int]](recv, wr)
	full.Close()
	empty.Close()
	full.Close()
	if ws.Count() != 1 || wr.Count() != 1 {
		t.Fatalf("wakes: sender %d, receiver %d; want 1 each", ws.Count(), wr.Count())
	}
	if r, _ := pollWith[Result[struct{}]](send, ws).Value(); !errors.Is(r.Err, ErrClosed) {
		t.Errorf("Send after Close = %v", r)
	}
	if r, _ := pollWith[Result[int]](recv, wr).Value(); !errors.Is(r.Err, ErrClosed) {
		t.Errorf("Recv after Close = %v", r)
	}
	// The value sent before Close is still received, then ErrClosed.
	if r, _ := pollWith[Result[int]](full.Recv(), wr).Value(); r != Ok(1) {
		t.Errorf("Recv of the value sent before Close = %v", r)
	}
	if r, _ := pollWith[Result[int]](full.Recv(), wr).Value(); !errors.Is(r.Err, ErrClosed) {
		t.Errorf("Recv of a drained closed channel = %v", r)
	}
}

func TestChannelDroppedWaitersLeave(t *testing.T) {
	leakcheck.Check(t)
	c := newChan[int](t, 1)
	w := &wakeCounter{}
	recv := c.Recv()
	pollWith[Result[int]](recv, w)
	recv.Drop()
	if c.recvq.head != nil {
		t.Fatal("a dropped Recv is still queued")
	}
	c.TrySend(1)
	send := c.Send(2)
	pollWith[Result[struct{}]](send, w)
	send.Drop()
	if c.sendq.head != nil {
		t.Fatal("a dropped Send is still queued")
	}
	c.TryRecv()
	if w.Count() != 0 || c.Len() != 0 {
		t.Errorf("dropped waiters woken %d times; %d values in the channel (the dropped Send's must not be)", w.Count(), c.Len())
	}
}

// TestChannelDroppedChosenWaiterPassesOn checks that a waiter chosen for a
// wake and then dropped hands the wake to the next waiter.
func TestChannelDroppedChosenWaiterPassesOn(t *testing.T) {
	leakcheck.Check(t)
	t.Run("receivers", func(t *testing.T) {
		leakcheck.Check(t)
		c := newChan[int](t, 1)
		w1, w2 := &wakeCounter{}, &wakeCounter{}
		r1, r2 := c.Recv(), c.Recv()
		pollWith[Result[int]](r1, w1)
		pollWith[Result[int]](r2, w2)
		c.TrySend(5)
		if w1.Count() != 1 || w2.Count() != 0 {
			t.Fatalf("wakes after send: %d, %d; want 1, 0", w1.Count(), w2.Count())
		}
		r1.Drop()
		if w2.Count() != 1 {
			t.Fatalf("second receiver woken %d times after the first was dropped, want 1", w2.Count())
		}
		if r, _ := pollWith[Result[int]](r2, w2).Value(); r != Ok(5) {
			t.Fatalf("second receiver got %v", r)
		}
	})
	t.Run("senders", func(t *testing.T) {
		leakcheck.Check(t)
		c := newChan[int](t, 1)
		c.TrySend(0)
		w1, w2 := &wakeCounter{}, &wakeCounter{}
		s1, s2 := c.Send(1), c.Send(2)
		pollWith[Result[struct{}]](s1, w1)
		pollWith[Result[struct{}]](s2, w2)
		c.TryRecv()
		if w1.Count() != 1 || w2.Count() != 0 {
			t.Fatalf("wakes after receive: %d, %d; want 1, 0", w1.Count(), w2.Count())
		}
		s1.Drop()
		if w2.Count() != 1 {
			t.Fatalf("second sender woken %d times after the first was dropped, want 1", w2.Count())
		}
		if r, _ := pollWith[Result[struct{}]](s2, w2).Value(); r.Err != nil {
			t.Fatalf("second sender got %v", r)
		}
		if v, _ := c.TryRecv(); v != 2 {
			t.Fatalf("received %d, want 2", v)
		}
	})
}

// TestChannelManyProducers sends from many goroutines through Send futures
// and receives on several consumers; every value arrives once, each
// producer's in order, and Close ends every consumer.
func TestChannelManyProducers(t *testing.T) {
	leakcheck.Check(t)
	const producers, perProducer, consumers = 8, 200, 3
	c := newChan[[2]int](t, 4)
	var prod sync.WaitGroup
	for p := range producers {
		prod.Go(func() {
			for i := range perProducer {
				if r := BlockOn[Result[struct{}]](c.Send([2]int{p, i})); r.Err != nil {
					t.Errorf("send: %v", r.Err)
					return
				}
			}
		})
	}
	got := make([][][2]int, consumers)
	var cons sync.WaitGroup
	for k := range consumers {
		cons.Go(func() {
			for {
				r := BlockOn[Result[[2]int]](c.Recv())
				if r.Err != nil {
					if !errors.Is(r.Err, ErrClosed) {
						t.Errorf("recv: %v", r.Err)
					}
					return
				}
				got[k] = append(got[k], r.Value)
			}
		})
	}
	prod.Wait()
	c.Close()
	cons.Wait()
	seen := make(map[[2]int]int)
	for _, vs := range got {
		last := make(map[int]int)
		for _, v := range vs {
			seen[v]++
			if prev, ok := last[v[0]]; ok && v[1] <= prev {
				t.Fatalf("producer %d's values out of order: %d after %d", v[0], v[1], prev)
			}
			last[v[0]] = v[1]
		}
	}
	if len(seen) != producers*perProducer {
		t.Fatalf("received %d distinct values, want %d", len(seen), producers*perProducer)
	}
	for v, n := range seen {
		if n != 1 {
			t.Fatalf("value %v received %d times", v, n)
		}
	}
}

// TestChannelDroppedReceiversUnderLoad has one receiver that keeps polling
// Recv futures once and dropping them, beside one that waits properly: the
// drops must never leave the waiting receiver without its wake (the test
// would hang), and every value arrives exactly once.
func TestChannelDroppedReceiversUnderLoad(t *testing.T) {
	leakcheck.Check(t)
	const total = 2000
	c := newChan[int](t, 2)
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range total {
			BlockOn[Result[struct{}]](c.Send(i))
		}
		c.Close()
	})
	var dropperGot []int
	wg.Go(func() {
		for {
			f := c.Recv()
			if r, ok := pollWith[Result[int]](f, &wakeCounter{}).Value(); ok {
				if r.Err != nil {
					return
				}
				dropperGot = append(dropperGot, r.Value)
				continue
			}
			f.Drop()
			runtime.Gosched()
		}
	})
	var got []int
	for {
		r := BlockOn[Result[int]](c.Recv())
		if r.Err != nil {
			break
		}
		got = append(got, r.Value)
	}
	wg.Wait()
	all := append(got, dropperGot...)
	slices.Sort(all)
	if len(all) != total || !slices.IsSorted(got) {
		t.Fatalf("received %d values (%d by the waiting receiver, in order: %v), want %d", len(all), len(got), slices.IsSorted(got), total)
	}
	for i, v := range all {
		if v != i {
			t.Fatalf("value %d missing or duplicated", i)
		}
	}
}
