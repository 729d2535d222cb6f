package future

import (
	"testing"

	"github.com/libasync/libasync/internal/leakcheck"
)

// wakeFunc is the natural adapter from a function to a Wakeable; a func
// type is not comparable.
type wakeFunc func()

func (f wakeFunc) Wake() { f() }

// sliceWakeable is a Wakeable whose struct type holds a slice, also not
// comparable.
type sliceWakeable struct{ woken []int }

func (s sliceWakeable) Wake() { s.woken[0]++ }

// Wakers of targets that are not comparable are compared without a panic:
// copies of one Waker WillWake each other, and the primitives that keep a
// waker work with them.
func TestWakerOfUncomparableTarget(t *testing.T) {
	leakcheck.Check(t)
	calls := 0
	f := NewWaker(wakeFunc(func() { calls++ }))
	s := NewWaker(sliceWakeable{woken: make([]int, 1)})
	for _, w := range []Waker{f, s} {
		if r, panicked := mustPanic(func() {
			if !w.WillWake(w) {
				t.Errorf("a copy of a Waker does not WillWake it")
			}
			w.WillWake(NewWaker(&wakeCounter{}))
			NewWaker(&wakeCounter{}).WillWake(w)
		}); panicked {
			t.Fatalf("WillWake panicked: %v", r)
		}
	}

	snd, rcv := NewOneshot[int]()
	cx := NewContext(f, nil)
	for range 2 { // the second poll compares the kept waker with its own
		if r, panicked := mustPanic(func() { rcv.Poll(cx) }); panicked {
			t.Fatalf("oneshot Poll with a func waker panicked: %v", r)
		}
	}
	if err := snd.Send(7); err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Fatalf("Send woke the func waker %d times, want 1", calls)
	}
}

// WakerFor and NewWaker of one pointer make wakers that WillWake each other
// and wake the same target.
func TestWakerForPointer(t *testing.T) {
	leakcheck.Check(t)
	c := &wakeCounter{}
	w := WakerFor(c)
	if !w.WillWake(NewWaker(c)) || !NewWaker(c).WillWake(w) {
		t.Fatal("WakerFor and NewWaker of one pointer do not WillWake each other")
	}
	if w.WillWake(WakerFor(&wakeCounter{})) {
		t.Fatal("wakers of two targets WillWake each other")
	}
	w.Wake()
	if c.Count() != 1 {
		t.Fatalf("woken %d times, want 1", c.Count())
	}
}

func BenchmarkNewWaker(b *testing.B) {
	c := &wakeCounter{}
	b.Run("NewWaker", func(b *testing.B) {
		for range b.N {
			sinkWaker = NewWaker(c)
		}
	})
	b.Run("WakerFor", func(b *testing.B) {
		for range b.N {
			sinkWaker = WakerFor(c)
		}
	})
}

var sinkWaker Waker
