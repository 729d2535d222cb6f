package executor

import "time"

// The Go runtime opens its own poller (on Linux an epoll descriptor and an
// eventfd; an I/O completion port on Windows) when the first timer is armed
// or the first os or net file is registered with it, and aborts the process
// ("fatal error: runtime: netpollinit failed") if it cannot. A program that
// holds many descriptors may arm its first timer at the descriptor limit: its
// own time.Sleep, a timed wait in capi, the garbage collector's scavenger.
// Arming a timer while the package initialises opens the poller at start-up,
// without a descriptor of its own.
func init() {
	time.AfterFunc(time.Hour, func() {}).Stop()
}
