package future

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/libasync/libasync/internal/leakcheck"
)

func TestCombinators(t *testing.T) {
	leakcheck.Check(t)
	pend := Pending[string]()
	rdy := Ready[string]
	cases := []struct {
		name      string
		build     func(l *eventLog) Future[string]
		polls     int  // polls at most this many times, stopping at Ready
		drop      bool // then drops the future
		wantReady bool
		want      string
		wantLog   []string
	}{
		{
			name:  "PollFn pending then ready",
			build: func(l *eventLog) Future[string] { return PollFn(script(l, "a", pend, rdy("x")).Poll) },
			polls: 3, wantReady: true, want: "x",
			wantLog: []string{"a:poll", "a:poll"},
		},
		{
			name:  "Resolved",
			build: func(*eventLog) Future[string] { return Resolved("v") },
			polls: 1, drop: true, wantReady: true, want: "v",
		},
		{
			name: "Map ready",
			build: func(l *eventLog) Future[string] {
				return Map(script(l, "a", pend, rdy("x")), strings.ToUpper)
			},
			polls: 3, drop: true, wantReady: true, want: "X",
			wantLog: []string{"a:poll", "a:poll"},
		},
		{
			name: "Map dropped pending",
			build: func(l *eventLog) Future[string] {
				return Map(script(l, "a", pend), strings.ToUpper)
			},
			polls: 2, drop: true,
			wantLog: []string{"a:poll", "a:poll", "a:drop"},
		},
		{
			name: "Then runs the second in the same poll",
			build: func(l *eventLog) Future[string] {
				return Then(script(l, "a", rdy("x")), func(v string) Future[string] {
					l.add("build %s", v)
					return script(l, "b", pend, rdy(v+"y"))
				})
			},
			polls: 3, drop: true, wantReady: true, want: "xy",
			wantLog: []string{"a:poll", "build x", "b:poll", "b:poll"},
		},
		{
			name: "Then dropped in the first",
			build: func(l *eventLog) Future[string] {
				return Then(script(l, "a", pend), func(v string) Future[string] {
					l.add("build")
					return Resolved(v)
				})
			},
			polls: 1, drop: true,
			wantLog: []string{"a:poll", "a:drop"},
		},
		{
			name: "Then dropped in the second",
			build: func(l *eventLog) Future[string] {
				return Then(script(l, "a", rdy("x")), func(string) Future[string] { return script(l, "b", pend) })
			},
			polls: 2, drop: true,
			wantLog: []string{"a:poll", "b:poll", "b:poll", "b:drop"},
		},
		{
			name: "Join",
			build: func(l *eventLog) Future[string] {
				return Map(Join[string, int](script(l, "a", pend, rdy("x")), script(l, "b", Ready(7))),
					func(p Pair[string, int]) string { return fmt.Sprint(p.First, p.Second) })
			},
			polls: 3, wantReady: true, want: "x7",
			wantLog: []string{"a:poll", "b:poll", "a:poll"},
		},
		{
			name: "Join dropped with both unfinished: a, then b",
			build: func(l *eventLog) Future[string] {
				return Map(Join[string, int](script(l, "a", pend), script(l, "b", Pending[int]())),
					func(Pair[string, int]) string { return "" })
			},
			polls: 1, drop: true,
			wantLog: []string{"a:poll", "b:poll", "a:drop", "b:drop"},
		},
		{
			name: "Join dropped with one finished",
			build: func(l *eventLog) Future[string] {
				return Map(Join[string, int](script(l, "a", rdy("x")), script(l, "b", Pending[int]())),
					func(Pair[string, int]) string { return "" })
			},
			polls: 2, drop: true,
			wantLog: []string{"a:poll", "b:poll", "b:poll", "b:drop"},
		},
		{
			name: "JoinAll keeps the order of its arguments",
			build: func(l *eventLog) Future[string] {
				return Map(JoinAll[string](
					script(l, "c0", pendingThen(2, "a")...),
					script(l, "c1", rdy("b")),
					script(l, "c2", pendingThen(1, "c")...),
				), func(vs []string) string { return strings.Join(vs, ",") })
			},
			polls: 5, wantReady: true, want: "a,b,c",
			wantLog: []string{"c0:poll", "c1:poll", "c2:poll", "c0:poll", "c2:poll", "c0:poll"},
		},
		{
			name: "JoinAll dropped: unfinished children in index order",
			build: func(l *eventLog) Future[string] {
				return Map(JoinAll[string](script(l, "c0", pend), script(l, "c1", rdy("b")), script(l, "c2", pend)),
					func([]string) string { return "" })
			},
			polls: 1, drop: true,
			wantLog: []string{"c0:poll", "c1:poll", "c2:poll", "c0:drop", "c2:drop"},
		},
		{
			name: "JoinAll of nothing",
			build: func(*eventLog) Future[string] {
				return Map(JoinAll[string](), func(vs []string) string { return fmt.Sprint(len(vs)) })
			},
			polls: 1, wantReady: true, want: "0",
		},
		{
			name: "Select: the first Ready wins, losers dropped in index order",
			build: func(l *eventLog) Future[string] {
				return Map(Select[string](script(l, "c0", pend), script(l, "c1", pendingThen(1, "b")...), script(l, "c2", pend)),
					func(s Selected[string]) string { return fmt.Sprint(s.Index, s.Value) })
			},
			polls: 3, drop: true, wantReady: true, want: "1b",
			wantLog: []string{"c0:poll", "c1:poll", "c2:poll", "c0:poll", "c1:poll", "c0:drop", "c2:drop"},
		},
		{
			name: "Select: ties go to the lower index",
			build: func(l *eventLog) Future[string] {
				return Map(Select[string](script(l, "c0", rdy("a")), script(l, "c1", rdy("b")), script(l, "c2", pend)),
					func(s Selected[string]) string { return fmt.Sprint(s.Index, s.Value) })
			},
			polls: 1, wantReady: true, want: "0a",
			wantLog: []string{"c0:poll", "c1:drop", "c2:drop"},
		},
		{
			name: "Select dropped: every child in index order",
			build: func(l *eventLog) Future[string] {
				return Map(Select[string](script(l, "c0", pend), script(l, "c1", pend)), func(Selected[string]) string { return "" })
			},
			polls: 1, drop: true,
			wantLog: []string{"c0:poll", "c1:poll", "c0:drop", "c1:drop"},
		},
		{
			name: "Select of nothing is never Ready",
			build: func(*eventLog) Future[string] {
				return Map(Select[string](), func(Selected[string]) string { return "" })
			},
			polls: 2, drop: true,
		},
		{
			name: "Race",
			build: func(l *eventLog) Future[string] {
				return Race[string](script(l, "c0", pend), script(l, "c1", rdy("b")))
			},
			polls: 1, wantReady: true, want: "b",
			wantLog: []string{"c0:poll", "c1:poll", "c0:drop"},
		},
		{
			name: "Race dropped",
			build: func(l *eventLog) Future[string] {
				return Race[string](script(l, "c0", pend), script(l, "c1", pend))
			},
			polls: 1, drop: true,
			wantLog: []string{"c0:poll", "c1:poll", "c0:drop", "c1:drop"},
		},
		{
			name: "Lazy builds on the first poll",
			build: func(l *eventLog) Future[string] {
				return Lazy(func() Future[string] { l.add("build"); return script(l, "a", pend, rdy("x")) })
			},
			polls: 2, wantReady: true, want: "x",
			wantLog: []string{"build", "a:poll", "a:poll"},
		},
		{
			name: "Lazy dropped unpolled never builds",
			build: func(l *eventLog) Future[string] {
				return Lazy(func() Future[string] { l.add("build"); return script(l, "a", pend) })
			},
			drop: true,
		},
		{
			name: "Lazy dropped after building drops the built future",
			build: func(l *eventLog) Future[string] {
				return Lazy(func() Future[string] { l.add("build"); return script(l, "a", pend) })
			},
			polls: 1, drop: true,
			wantLog: []string{"build", "a:poll", "a:drop"},
		},
		{
			name: "drops pass through nested combinators",
			build: func(l *eventLog) Future[string] {
				return Map(Join[string, string](
					Then(script(l, "a", rdy("x")), func(string) Future[string] { return script(l, "b", pend) }),
					Race[string](script(l, "c", pend), Map(script(l, "d", pend), strings.ToUpper)),
				), func(Pair[string, string]) string { return "" })
			},
			polls: 1, drop: true,
			wantLog: []string{"a:poll", "b:poll", "c:poll", "d:poll", "b:drop", "c:drop", "d:drop"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			leakcheck.Check(t)
			l := &eventLog{}
			f := c.build(l)
			var w wakeCounter
			var got string
			ready := false
			for range c.polls {
				if v, ok := pollWith(f, &w).Value(); ok {
					got, ready = v, true
					break
				}
			}
			if c.drop {
				Drop(f)
			}
			if ready != c.wantReady || got != c.want {
				t.Errorf("result = %q, ready %v; want %q, ready %v", got, ready, c.want, c.wantReady)
			}
			if diff := cmp.Diff(c.wantLog, l.list()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

// TestChildrenSeeTheContext checks that combinators hand their Context to
// children, so children wake the task and see the executor's services.
func TestChildrenSeeTheContext(t *testing.T) {
	leakcheck.Check(t)
	var seen []any
	child := func() Future[int] {
		return PollFn(func(cx *Context) Poll[int] { seen = append(seen, cx.Services()); return Ready(1) })
	}
	futs := []Future[int]{
		Map(child(), func(v int) int { return v }),
		Then(child(), func(int) Future[int] { return child() }),
		Map(Join(child(), child()), func(Pair[int, int]) int { return 0 }),
		Map(JoinAll(child(), child()), func([]int) int { return 0 }),
		Race(child()),
		Lazy(child),
	}
	for _, f := range futs {
		f.Poll(NewContext(Waker{}, "services"))
	}
	want := []any{"services", "services", "services", "services", "services", "services", "services", "services", "services"}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("services seen by children (-want +got):\n%s", diff)
	}
}

// openInRandomOrder opens gates[i] with values[i] from one goroutine per
// gate, in an order left to the scheduler and shuffled yields, and returns a
// wait function for the openers.
func openInRandomOrder[T any](r *rand.Rand, gates []*gate[T], values []T) (wait func()) {
	var wg sync.WaitGroup
	for _, i := range r.Perm(len(gates)) {
		yields := r.IntN(4)
		wg.Go(func() {
			for range yields {
				runtime.Gosched()
			}
			gates[i].Open(values[i])
		})
	}
	return wg.Wait
}

func TestJoinAllRandom(t *testing.T) {
	leakcheck.Check(t)
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		n := 1 + r.IntN(8)
		gates := make([]*gate[int], n)
		futs := make([]Future[int], n)
		want := make([]int, n)
		for i := range gates {
			gates[i] = &gate[int]{}
			futs[i] = gates[i]
			want[i] = trial*100 + i
		}
		f := JoinAll(futs...)
		wait := openInRandomOrder(r, gates, want)
		got, polls, wakes := drive(f)
		wait()
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("trial %d: values (-want +got):\n%s", trial, diff)
		}
		// Each gate wakes at most once; parking coalesces wakes, so every
		// poll but the first answers at least one wake.
		if wakes > int64(n) || int64(polls) > wakes+1 {
			t.Fatalf("trial %d: %d polls, %d wakes for %d children", trial, polls, wakes, n)
		}
		for i, g := range gates {
			if d := g.drops.Load(); d != 0 {
				t.Fatalf("trial %d: finished child %d dropped %d times", trial, i, d)
			}
		}
	}
}

func TestJoinRandom(t *testing.T) {
	leakcheck.Check(t)
	r := rand.New(rand.NewPCG(3, 4))
	for trial := range 200 {
		a, b := &gate[int]{}, &gate[string]{}
		var wg sync.WaitGroup
		order := r.Perm(2)
		for _, which := range order {
			wg.Go(func() {
				runtime.Gosched()
				if which == 0 {
					a.Open(trial)
				} else {
					b.Open(fmt.Sprint(trial))
				}
			})
		}
		got, polls, wakes := drive(Join[int, string](a, b))
		wg.Wait()
		if want := (Pair[int, string]{trial, fmt.Sprint(trial)}); got != want {
			t.Fatalf("trial %d: got %v, want %v", trial, got, want)
		}
		if wakes > 2 || int64(polls) > wakes+1 {
			t.Fatalf("trial %d: %d polls, %d wakes", trial, polls, wakes)
		}
	}
}

func TestSelectRandom(t *testing.T) {
	leakcheck.Check(t)
	r := rand.New(rand.NewPCG(5, 6))
	for trial := range 200 {
		n := 1 + r.IntN(8)
		opened := 1 + r.IntN(n) // how many gates get opened
		gates := make([]*gate[int], n)
		futs := make([]Future[int], n)
		values := make([]int, n)
		for i := range gates {
			gates[i] = &gate[int]{}
			futs[i] = gates[i]
			values[i] = 1000*trial + i
		}
		perm := r.Perm(n)[:opened]
		openGates := make([]*gate[int], opened)
		openValues := make([]int, opened)
		for k, i := range perm {
			openGates[k], openValues[k] = gates[i], values[i]
		}
		wait := openInRandomOrder(r, openGates, openValues)
		got, polls, wakes := drive(Select(futs...))
		wait()
		if got.Index < 0 || got.Index >= n || got.Value != values[got.Index] {
			t.Fatalf("trial %d: got %+v from %d futures", trial, got, n)
		}
		if wakes > int64(opened) || int64(polls) > wakes+1 {
			t.Fatalf("trial %d: %d polls, %d wakes, %d gates opened", trial, polls, wakes, opened)
		}
		for i, g := range gates {
			want := int32(1)
			if i == got.Index {
				want = 0
			}
			if d := g.drops.Load(); d != want {
				t.Fatalf("trial %d: child %d dropped %d times, want %d (winner %d)", trial, i, d, want, got.Index)
			}
		}
		if !gates[got.Index].open {
			t.Fatalf("trial %d: winner %d was never opened", trial, got.Index)
		}
	}
}
