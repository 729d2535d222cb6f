//go:build !race

// The race detector changes allocation counts, so these run without it.

package future

import (
	"testing"

	"github.com/libasync/libasync/internal/leakcheck"
)

// TestPollsAllocateNothing checks the promise of the combinators and
// primitives: no allocation per poll once built.
func TestPollsAllocateNothing(t *testing.T) {
	leakcheck.Check(t)
	n := &Notify{}
	c, _ := NewChannel[int](1)
	_, r := NewOneshot[int]()
	cases := []struct {
		name string
		poll func(cx *Context)
	}{
		{"PollFn", pollFuncOf(pendingFn())},
		{"Map", pollFuncOf(Map(pendingFn(), func(v int) int { return v }))},
		{"Then", pollFuncOf(Then(pendingFn(), func(v int) Future[int] { return Resolved(v) }))},
		{"Join", pollFuncOf(Join(pendingFn(), pendingFn()))},
		{"JoinAll", pollFuncOf(JoinAll(pendingFn(), pendingFn(), pendingFn()))},
		{"Select", pollFuncOf(Select(pendingFn(), pendingFn()))},
		{"Lazy", pollFuncOf(Lazy(pendingFn))},
		{"OneshotReceiver", pollFuncOf[Result[int]](r)},
		{"Channel.Recv", pollFuncOf[Result[int]](c.Recv())},
		{"Notified", pollFuncOf[struct{}](n.Notified())},
	}
	w := &wakeCounter{}
	for _, tc := range cases {
		cx := NewContext(NewWaker(w), nil)
		tc.poll(cx) // the first poll may register a waiter
		if a := testing.AllocsPerRun(100, func() { tc.poll(cx) }); a != 0 {
			t.Errorf("%s: %v allocations per poll, want 0", tc.name, a)
		}
	}
	r.Drop()
}

func pollFuncOf[T any](f Future[T]) func(cx *Context) {
	return func(cx *Context) { f.Poll(cx) }
}
