package waitslot

import (
	"testing"

	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/leakcheck"
)

type target struct{ _ byte } // not zero-sized: two would share an address

func (*target) Wake() {}

// A Slot withdraws a wait exactly once, with the waker it was left with:
// before a poll with another waker and on Drop, never for a poll with the
// same waker or after a ready poll.
func TestSlotWithdrawsWithTheWaitsWaker(t *testing.T) {
	leakcheck.Check(t)
	a, b := future.WakerFor(&target{}), future.WakerFor(&target{})
	cxA, cxB := future.NewContext(a, nil), future.NewContext(b, nil)
	var got []future.Waker
	withdraw := func(w future.Waker) { got = append(got, w) }

	var s Slot
	s.Drop(withdraw)
	s.Again(cxA, withdraw)
	s.Track(true, cxA)
	s.Again(cxA, withdraw)
	if len(got) != 0 {
		t.Fatalf("withdrew %d waits with nothing to withdraw", len(got))
	}
	s.Again(cxB, withdraw)
	if len(got) != 1 || !got[0].WillWake(a) {
		t.Fatalf("a poll with another waker withdrew %v, want the first waker's wait", got)
	}
	s.Track(true, cxB)
	s.Drop(withdraw)
	s.Drop(withdraw)
	if len(got) != 2 || !got[1].WillWake(b) {
		t.Fatalf("Drop withdrew %v, want the second waker's wait once", got[1:])
	}
	s.Track(true, cxA)
	s.Track(false, cxA)
	s.Drop(withdraw)
	if len(got) != 2 {
		t.Fatalf("Drop after a ready poll withdrew a wait")
	}
}
