package future

import (
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/libasync/libasync/internal/leakcheck"
)

func TestAsyncReturnsWithoutAwaiting(t *testing.T) {
	leakcheck.Check(t)
	f := Async(func(*Awaiter) int { return 42 })
	if v, ok := pollWith(f, &wakeCounter{}).Value(); !ok || v != 42 {
		t.Fatalf("first poll = %v, %v; want 42, Ready", v, ok)
	}
	Drop(f) // dropping a finished future is allowed and does nothing
}

func TestAsyncNestedAwaits(t *testing.T) {
	leakcheck.Check(t)
	l := &eventLog{}
	inner := func(name string, pending int, v int) Future[int] {
		return Async(func(a *Awaiter) int {
			l.add("%s start", name)
			got := Await[int](a, script(l, name+".leaf", pendingThen(pending, v)...))
			l.add("%s got %d", name, got)
			return got * 10
		})
	}
	outer := Async(func(a *Awaiter) int {
		x := Await(a, inner("i1", 1, 1))
		y := Await(a, inner("i2", 0, 2))
		z := Await(a, Map(inner("i3", 2, 3), func(v int) int { return v + 1 }))
		return x + y + z
	})
	got, polls, _ := pollUntilReady(outer, 10)
	if got != 10+20+31 || polls != 4 {
		t.Errorf("got %d after %d polls; want 61 after 4", got, polls)
	}
	want := []string{
		"i1 start", "i1.leaf:poll", "i1.leaf:poll", "i1 got 1",
		"i2 start", "i2.leaf:poll", "i2 got 2",
		"i3 start", "i3.leaf:poll", "i3.leaf:poll", "i3.leaf:poll", "i3 got 3",
	}
	if diff := cmp.Diff(want, l.list()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// TestAsyncAwaitSeesEachPoll checks that an awaited future is polled with the
// Context of the poll that resumed the body: its waker and its services.
func TestAsyncAwaitSeesEachPoll(t *testing.T) {
	leakcheck.Check(t)
	type seen struct {
		Services any
		Waker    Waker
	}
	var got []seen
	polls := 0
	child := PollFn(func(cx *Context) Poll[int] {
		got = append(got, seen{cx.Services(), cx.Waker()})
		polls++
		if polls < 3 {
			return Pending[int]()
		}
		return Ready(polls)
	})
	f := Async(func(a *Awaiter) int { return Await(a, child) })
	w1, w2, w3 := &wakeCounter{}, &wakeCounter{}, &wakeCounter{}
	f.Poll(NewContext(NewWaker(w1), "s1"))
	f.Poll(NewContext(NewWaker(w2), "s2"))
	if v, ok := f.Poll(NewContext(NewWaker(w3), nil)).Value(); !ok || v != 3 {
		t.Fatalf("third poll = %v, %v; want 3, Ready", v, ok)
	}
	want := []seen{{"s1", NewWaker(w1)}, {"s2", NewWaker(w2)}, {nil, NewWaker(w3)}}
	if diff := cmp.Diff(want, got, cmp.Comparer(Waker.WillWake)); diff != "" {
		t.Errorf("contexts seen by the awaited future (-want +got):\n%s", diff)
	}
}

func TestAsyncEarlyReturn(t *testing.T) {
	leakcheck.Check(t)
	l := &eventLog{}
	second := script(l, "second", Ready(2))
	f := Async(func(a *Awaiter) int {
		if v := Await[int](a, script(l, "first", pendingThen(1, 0)...)); v == 0 {
			return -1
		}
		return Await[int](a, second)
	})
	got, _, _ := pollUntilReady(f, 5)
	if got != -1 || second.polls != 0 {
		t.Errorf("got %d, second polled %d times; want -1, 0", got, second.polls)
	}
}

func TestAsyncPanicReachesThePoller(t *testing.T) {
	leakcheck.Check(t)
	boom := errors.New("boom")
	for _, c := range []struct {
		name string
		body func(a *Awaiter) int
	}{
		{"in body before awaiting", func(*Awaiter) int { panic(boom) }},
		{"in body after awaiting", func(a *Awaiter) int {
			Await[int](a, script(&eventLog{}, "x", pendingThen(1, 1)...))
			panic(boom)
		}},
		{"in an awaited future", func(a *Awaiter) int {
			return Await(a, PollFn(func(*Context) Poll[int] { panic(boom) }))
		}},
		{"in a nested Async", func(a *Awaiter) int {
			return Await(a, Async(func(*Awaiter) int { panic(boom) }))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			leakcheck.Check(t)
			f := Async(c.body)
			var r any
			panicked := false
			for range 3 {
				if r, panicked = mustPanic(func() { pollWith(f, &wakeCounter{}) }); panicked {
					break
				}
			}
			if r != boom {
				t.Fatalf("poll panicked with %v (%v), want the body's own value", r, panicked)
			}
			Drop(f) // after a panic the coroutine is gone; Drop is a no-op
		})
	}
}

func TestAsyncDropWhileSuspended(t *testing.T) {
	leakcheck.Check(t)
	l := &eventLog{}
	awaited := script(l, "awaited", Pending[int]())
	f := Async(func(a *Awaiter) int {
		defer l.add("deferred")
		l.add("before")
		v := Await[int](a, awaited)
		l.add("after await") // must never run
		return v
	})
	pollWith(f, &wakeCounter{})
	pollWith(f, &wakeCounter{})
	if !coroutineRunning() {
		t.Fatal("no coroutine found for a suspended Async future")
	}
	Drop(f)
	if coroutineRunning() {
		t.Fatal("the coroutine of a dropped Async future is still there")
	}
	want := []string{"before", "awaited:poll", "awaited:poll", "awaited:drop", "deferred"}
	if diff := cmp.Diff(want, l.list()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	Drop(f) // a second Drop breaks the contract, yet does nothing
	if awaited.drops != 1 {
		t.Errorf("awaited future dropped %d times, want 1", awaited.drops)
	}
}

// coroutineRunning reports whether any goroutine is inside an Async body.
// Drop returns only after the coroutine ended, so no grace period is needed.
func coroutineRunning() bool {
	buf := make([]byte, 1<<20)
	return strings.Contains(string(buf[:runtime.Stack(buf, true)]), "future.(*asyncFuture")
}

func TestAsyncDropNested(t *testing.T) {
	leakcheck.Check(t)
	l := &eventLog{}
	f := Async(func(a *Awaiter) int {
		defer l.add("outer deferred")
		return Await(a, Async(func(a *Awaiter) int {
			defer l.add("inner deferred")
			return Await[int](a, script(l, "leaf", Pending[int]()))
		}))
	})
	pollWith(f, &wakeCounter{})
	Drop(f)
	want := []string{"leaf:poll", "leaf:drop", "inner deferred", "outer deferred"}
	if diff := cmp.Diff(want, l.list()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestAsyncDropUnpolledNeverRunsBody(t *testing.T) {
	leakcheck.Check(t)
	ran := false
	f := Async(func(*Awaiter) int { ran = true; return 0 })
	Drop(f)
	if ran {
		t.Error("the body of an Async future dropped unpolled ran")
	}
}

// TestAsyncBodySwallowingTheUnwinding checks that a body which recovers the
// unwinding still cannot wait again: its next Await drops its future and
// unwinds once more, and Drop returns normally.
func TestAsyncBodySwallowingTheUnwinding(t *testing.T) {
	leakcheck.Check(t)
	l := &eventLog{}
	f := Async(func(a *Awaiter) int {
		defer func() {
			recover()
			l.add("recovered")
			Await[int](a, script(l, "late", Pending[int]()))
			l.add("after late await") // must never run
		}()
		return Await[int](a, script(l, "first", Pending[int]()))
	})
	pollWith(f, &wakeCounter{})
	if r, panicked := mustPanic(func() { Drop(f) }); panicked {
		t.Fatalf("Drop panicked with %v", r)
	}
	want := []string{"first:poll", "first:drop", "recovered", "late:drop"}
	if diff := cmp.Diff(want, l.list()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestAsyncPanicDuringDropReachesDropper(t *testing.T) {
	leakcheck.Check(t)
	f := Async(func(a *Awaiter) int {
		defer func() { panic("in defer") }()
		return Await[int](a, &gate[int]{})
	})
	pollWith(f, &wakeCounter{})
	if r, _ := mustPanic(func() { Drop(f) }); r != "in defer" {
		t.Fatalf("Drop panicked with %v, want the deferred call's value", r)
	}
}

func TestAwaitMisuse(t *testing.T) {
	leakcheck.Check(t)
	var saved *Awaiter
	done := Async(func(a *Awaiter) int { saved = a; return 1 })
	pollWith(done, &wakeCounter{})

	outerAwaiter := make(chan *Awaiter, 1)
	for _, c := range []struct {
		name string
		fn   func()
	}{
		{"nil Awaiter", func() { Await(nil, Resolved(1)) }},
		{"after the body returned", func() { Await(saved, Resolved(1)) }},
		{"inside a future being awaited", func() {
			f := Async(func(a *Awaiter) int {
				outerAwaiter <- a
				return Await(a, Async(func(*Awaiter) int { return Await(<-outerAwaiter, Resolved(1)) }))
			})
			pollWith(f, &wakeCounter{})
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			leakcheck.Check(t)
			if r, _ := mustPanic(c.fn); r != errAwaitOutside {
				t.Fatalf("panicked with %v, want %v", r, errAwaitOutside)
			}
		})
	}
}

func TestAsyncWithBlockOnAndAnotherGoroutine(t *testing.T) {
	leakcheck.Check(t)
	g := &gate[string]{}
	go func() {
		for !g.waiting() { // until the body awaits, so that the wake crosses goroutines
			runtime.Gosched()
		}
		g.Open("hello")
	}()
	got := BlockOn(Async(func(a *Awaiter) string { return Await[string](a, g) + "!" }))
	if got != "hello!" {
		t.Fatalf("got %q", got)
	}
}

// TestAsyncPolledFromManyGoroutines polls one Async future from a different
// goroutine each time, as a work-stealing executor may.
func TestAsyncPolledFromManyGoroutines(t *testing.T) {
	leakcheck.Check(t)
	const steps = 50
	f := Async(func(a *Awaiter) int {
		sum := 0
		for i := range steps {
			sum += Await[int](a, script(&eventLog{}, "step", pendingThen(1, i)...))
		}
		return sum
	})
	result := make(chan int)
	var poll func()
	poll = func() {
		if v, ok := pollWith(f, &wakeCounter{}).Value(); ok {
			result <- v
			return
		}
		go poll() // the next poll runs on a new goroutine
	}
	go poll()
	if got := <-result; got != steps*(steps-1)/2 {
		t.Fatalf("got %d", got)
	}
}
