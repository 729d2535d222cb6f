// Command sleepers shows why `.await` is not a thread sleep: 10,000 tasks
// that each wait 100 ms on a timer finish together in about 100 ms, because
// a waiting task holds no thread; the same task body with a blocking
// time.Sleep holds the executor's only goroutine, so the tasks run one after
// another. That version runs for 20 tasks, and the time for 10,000 is
// projected from it.
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/libasync/libasync/executor"
	"github.com/libasync/libasync/future"
)

const (
	tasks       = 10_000
	blockingRun = 20
	nap         = 100 * time.Millisecond
)

// napper is the task body: wait nap, then finish. With blocking set it calls
// time.Sleep, otherwise it awaits an executor.Sleep.
type napper struct {
	blocking bool
	sleep    *executor.SleepFuture
}

func (n *napper) Poll(cx *future.Context) future.Poll[future.Result[struct{}]] {
	if n.blocking {
		time.Sleep(nap)
		return future.Ready(future.Ok(struct{}{}))
	}
	if n.sleep == nil {
		n.sleep = executor.Sleep(nap)
	}
	return n.sleep.Poll(cx)
}

// joinAll spawns count tasks and waits for all of them.
type joinAll struct {
	count    int
	blocking bool
	handles  []*executor.JoinHandle[future.Result[struct{}]]
	next     int
}

func (j *joinAll) Poll(cx *future.Context) future.Poll[error] {
	if j.handles == nil {
		sp, err := executor.SpawnerOf(cx)
		if err != nil {
			return future.Ready(err)
		}
		for range j.count {
			h, err := executor.Spawn[future.Result[struct{}]](sp, &napper{blocking: j.blocking})
			if err != nil {
				return future.Ready(err)
			}
			j.handles = append(j.handles, h)
		}
	}
	for ; j.next < len(j.handles); j.next++ {
		r, ok := j.handles[j.next].Poll(cx).Value()
		if !ok {
			return future.Pending[error]()
		}
		if r.Err == nil {
			r.Err = r.Value.Err
		}
		if r.Err != nil {
			return future.Ready(r.Err)
		}
	}
	return future.Ready[error](nil)
}

// run runs count tasks on a fresh Local and returns the wall time.
func run(count int, blocking bool) (time.Duration, error) {
	ex, err := executor.NewLocal()
	if err != nil {
		return 0, err
	}
	defer ex.Close()
	start := time.Now()
	werr, err := executor.BlockOn[error](ex, &joinAll{count: count, blocking: blocking})
	if err == nil {
		err = werr
	}
	return time.Since(start), err
}

func main() {
	async, err := run(tasks, false)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sleepers:", err)
		os.Exit(1)
	}
	blocked, err := run(blockingRun, true)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sleepers:", err)
		os.Exit(1)
	}
	projected := blocked * tasks / blockingRun
	fmt.Printf("%d tasks awaiting executor.Sleep(%v):  %v\n", tasks, nap, async.Round(time.Millisecond))
	fmt.Printf("%d tasks calling time.Sleep(%v):       %v, so %d would take about %v\n",
		blockingRun, nap, blocked.Round(time.Millisecond), tasks, projected.Round(time.Second))
}
