package future_test

import (
	"fmt"

	"github.com/libasync/libasync/future"
)

// An async function written as straight-line code: it awaits values from a
// channel that a second future fills, and both run on one goroutine under
// BlockOn, taking turns whenever one of them waits.
func ExampleAsync() {
	ch, _ := future.NewChannel[int](1)
	producer := future.Async(func(a *future.Awaiter) error {
		defer ch.Close()
		for i := 1; i <= 3; i++ {
			if r := future.Await(a, ch.Send(i)); r.Err != nil {
				return r.Err
			}
		}
		return nil
	})
	consumer := future.Async(func(a *future.Awaiter) int {
		sum := 0
		for {
			r := future.Await(a, ch.Recv())
			if r.Err != nil { // ErrClosed: the producer is done
				return sum
			}
			sum += r.Value
		}
	})
	both := future.BlockOn(future.Join(producer, consumer))
	fmt.Println(both.First, both.Second)
	// Output: <nil> 6
}

// Select runs futures side by side and yields the first to be ready; the
// others are dropped.
func ExampleSelect() {
	never := future.PollFn(func(*future.Context) future.Poll[string] { return future.Pending[string]() })
	sel := future.BlockOn(future.Select(never, future.Resolved("ready")))
	fmt.Println(sel.Index, sel.Value)
	// Output: 1 ready
}
