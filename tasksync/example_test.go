package tasksync_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/libasync/libasync/executor"
	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/tasksync"
)

// spawnAll runs the bodies as tasks of a single-threaded executor until all
// are done.
func spawnAll(bodies ...func(a *future.Awaiter)) {
	ex, err := executor.NewLocal()
	if err != nil {
		panic(err)
	}
	defer ex.Close()
	var hs []*executor.JoinHandle[struct{}]
	for _, body := range bodies {
		h, err := executor.Spawn(ex, future.Async(func(a *future.Awaiter) struct{} { body(a); return struct{}{} }))
		if err != nil {
			panic(err)
		}
		hs = append(hs, h)
	}
	for _, h := range hs {
		executor.BlockOn[future.Result[struct{}]](ex, h)
	}
}

// A semaphore of 2 permits lets at most two of five tasks into a section
// at once, even though they hold it across an await.
func ExampleSemaphore() {
	sem, _ := tasksync.NewSemaphore(2)
	inside, most := 0, 0
	worker := func(a *future.Awaiter) {
		r := future.Await(a, sem.Acquire(1))
		if r.Err != nil {
			return
		}
		permit := r.Value
		defer permit.Release()
		inside++
		most = max(most, inside)
		future.Await[struct{}](a, executor.YieldNow()) // let the others try
		inside--
	}
	spawnAll(worker, worker, worker, worker, worker)
	fmt.Println("at most", most, "at once")
	// Output: at most 2 at once
}

// A Mutex may be held across an await; the tasks take it in the order they
// asked for it.
func ExampleMutex() {
	var mu tasksync.Mutex
	var order []int
	task := func(id int) func(a *future.Awaiter) {
		return func(a *future.Awaiter) {
			g := future.Await(a, mu.Lock())
			defer g.Unlock()
			future.Await[struct{}](a, executor.YieldNow()) // still holding the lock
			order = append(order, id)
		}
	}
	spawnAll(task(1), task(2), task(3))
	fmt.Println(order)
	// Output: [1 2 3]
}

// Three tasks meet at a barrier; exactly one of them is told it is the
// leader.
func ExampleBarrier() {
	b, _ := tasksync.NewBarrier(3)
	leaders := 0
	task := func(a *future.Awaiter) {
		if future.Await(a, b.Wait()) {
			leaders++
		}
	}
	spawnAll(task, task, task)
	fmt.Println(leaders, "leader")
	// Output: 1 leader
}

// A watch channel carries the latest value; a receiver that was not
// looking sees only the newest one.
func ExampleNewWatch() {
	config := tasksync.NewWatch("v1")
	rx := config.Subscribe()
	config.Send("v2")
	config.Send("v3")
	config.Close()
	for {
		r := future.BlockOn(rx.Changed())
		if r.Err != nil { // future.ErrClosed: no more changes
			break
		}
		fmt.Println("config is now", r.Value)
	}
	// Output: config is now v3
}

// Every receiver of a broadcast gets every value; one that falls behind
// the ring is told how many it missed.
func ExampleNewBroadcast() {
	tx, _ := tasksync.NewBroadcast[int](2)
	fast, slow := tx.Subscribe(), tx.Subscribe()
	for v := 1; v <= 3; v++ {
		tx.Send(v)
		r := future.BlockOn(fast.Recv())
		fmt.Println("fast got", r.Value)
	}
	tx.Close()
	for {
		v, err := slow.TryRecv()
		var lagged *tasksync.LaggedError
		if errors.As(err, &lagged) {
			fmt.Println("slow missed", lagged.Missed)
			continue
		}
		if err != nil {
			break
		}
		fmt.Println("slow got", v)
	}
	// Output:
	// fast got 1
	// fast got 2
	// fast got 3
	// slow missed 1
	// slow got 2
	// slow got 3
}

// A task stops its work when its token is cancelled: it selects between
// the next piece of work and the token's Cancelled future.
func ExampleCancellationToken() {
	root := tasksync.NewCancellationToken()
	worker := root.Child()
	jobs, _ := future.NewChannel[string](1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			stop := future.Map(worker.Cancelled(), func(struct{}) future.Result[string] {
				return future.Fail[string](context.Canceled)
			})
			r := future.BlockOn(future.Race[future.Result[string]](jobs.Recv(), stop))
			if r.Err != nil {
				fmt.Println("worker stopped")
				return
			}
			fmt.Println("worker did", r.Value)
		}
	}()
	future.BlockOn(jobs.Send("job 1"))
	future.BlockOn(jobs.Send("job 2"))
	root.Cancel() // cancels the child too
	<-done
	// Output:
	// worker did job 1
	// worker did job 2
	// worker stopped
}

// A token and a context.Context stand for each other: goroutine code gets
// the token's context, and a context's end cancels a token.
func ExampleTokenFromContext() {
	ctx, cancel := context.WithCancel(context.Background())
	tok := tasksync.TokenFromContext(ctx)
	cancel()
	future.BlockOn[struct{}](tok.Cancelled())
	fmt.Println("token cancelled:", tok.IsCancelled())

	other := tasksync.NewCancellationToken()
	other.Cancel()
	<-other.Context().Done()
	fmt.Println("context:", other.Context().Err())
	// Output:
	// token cancelled: true
	// context: context canceled
}
