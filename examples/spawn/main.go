// Command spawn is the seed program on an executor: it spawns a task,
//
//	let handle = tokio::spawn(async { fetch().await });
//	let result = handle.await?;
//
// and awaits its JoinHandle. The task runs on executor.Local, whose loop
// runs on main's goroutine inside BlockOn.
package main

import (
	"fmt"
	"os"

	"github.com/libasync/libasync/executor"
	"github.com/libasync/libasync/future"
)

// fetch is `async fn fetch() -> u32 { 42 }`.
func fetch() future.Future[uint32] {
	return future.Async(func(a *future.Awaiter) uint32 { return 42 })
}

func main() {
	ex, err := executor.NewLocal()
	if err != nil {
		fmt.Fprintln(os.Stderr, "spawn:", err)
		os.Exit(1)
	}
	defer ex.Close()

	handle, err := executor.Spawn(ex, future.Async(func(a *future.Awaiter) uint32 {
		return future.Await(a, fetch())
	}))
	if err != nil {
		fmt.Fprintln(os.Stderr, "spawn:", err)
		os.Exit(1)
	}
	outcome, err := executor.BlockOn(ex, handle) // handle.await
	if err == nil {
		err = outcome.Err
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "spawn:", err)
		os.Exit(1)
	}
	fmt.Println("result:", outcome.Value)
}
