package future

import (
	"errors"
	"runtime"
	"testing"

	"github.com/libasync/libasync/internal/leakcheck"
)

func TestBlockOnLendsNoServices(t *testing.T) {
	leakcheck.Check(t)
	// A future that needs a runtime finds none and says so.
	needsRuntime := PollFn(func(cx *Context) Poll[error] {
		if cx.Services() == nil {
			return Ready(ErrNoRuntime)
		}
		return Ready[error](nil)
	})
	if err := BlockOn(needsRuntime); !errors.Is(err, ErrNoRuntime) {
		t.Fatalf("got %v, want ErrNoRuntime", err)
	}
}

func TestBlockOnCoalescesWakes(t *testing.T) {
	leakcheck.Check(t)
	polls := 0
	f := PollFn(func(cx *Context) Poll[int] {
		polls++
		if polls == 1 {
			for range 5 {
				cx.Waker().Wake()
			}
			return Pending[int]()
		}
		return Ready(polls)
	})
	if got := BlockOn(f); got != 2 {
		t.Fatalf("Ready at poll %d, want 2: five wakes during one poll make one more poll", got)
	}
}

func TestBlockOnParks(t *testing.T) {
	leakcheck.Check(t)
	g := &gate[int]{}
	polls := 0
	f := PollFn(func(cx *Context) Poll[int] { polls++; return g.Poll(cx) })
	go func() {
		for !g.waiting() {
			runtime.Gosched()
		}
		for range 100 {
			runtime.Gosched() // time in which a spinning BlockOn would poll again
		}
		g.Open(1)
	}()
	if BlockOn(f); polls != 2 {
		t.Fatalf("%d polls, want 2: BlockOn polls again only when woken", polls)
	}
}

func TestBlockOnPanics(t *testing.T) {
	leakcheck.Check(t)
	if r, _ := mustPanic(func() { BlockOn(PollFn(func(*Context) Poll[int] { panic("p") })) }); r != "p" {
		t.Fatalf("recovered %v", r)
	}
}
