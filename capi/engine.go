//go:build (linux || darwin || netbsd || windows) && (amd64 || arm64) && cgo

package main

import (
	"os"
	"runtime"

	"github.com/libasync/libasync/executor"
)

// hostProcs is how many of the Go scheduler's Ps (GOMAXPROCS) are kept
// beyond one per CPU, for the host's threads. A host thread that calls into
// the library holds a P while inside, and keeps it (as if in a system call)
// after returning to C; a worker waiting in the driver holds its P the same
// way. With no P idle, the Go runtime's monitor thread takes such Ps back
// after 20 µs and stays awake every 20 µs to do so, and the thread that
// comes back must get a P anew: in the Python echo benchmark that cost
// about a fifth of the server's CPU. With spare Ps, those Ps are left alone.
const hostProcs = 2

func init() {
	// An explicit GOMAXPROCS of the host's is its choice.
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(runtime.NumCPU() + hostProcs)
	}
}

// engine is the executor behind a runtime handle: a work-stealing
// executor.Runtime (threaded), or an executor.Local that the host's thread
// runs (host-driven). Either is also the services that its futures find
// in the Context, which a poll made on a host thread lends them.
type engine interface {
	executor.Executor
	DriverName() string
}

// newEngine starts an executor on driver name ("" for the default): a
// Local when hostDriven, else a Runtime with workers workers (0: one per
// CPU, not one per P: the spare Ps are the host threads').
func newEngine(name string, workers int, hostDriven bool) (engine, error) {
	if hostDriven {
		return executor.NewLocal(executor.WithDriver(name))
	}
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	return executor.NewRuntime(executor.WithDriver(name), executor.WithWorkers(workers))
}
