// Command hello is libasync's seed program, the Go form of
//
//	async fn fetch() -> u32 { 42 }
//	let result = fetch().await;
//
// fetch is an Async future; main awaits it inside another Async future and
// drives that with BlockOn, which runs it on the calling goroutine.
package main

import (
	"fmt"

	"github.com/libasync/libasync/future"
)

// fetch is `async fn fetch() -> u32 { 42 }`.
func fetch() future.Future[uint32] {
	return future.Async(func(a *future.Awaiter) uint32 { return 42 })
}

func main() {
	result := future.BlockOn(future.Async(func(a *future.Awaiter) uint32 {
		return future.Await(a, fetch()) // let result = fetch().await;
	}))
	fmt.Println("result:", result)
}
