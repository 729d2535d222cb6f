//go:build (linux || darwin || netbsd || windows) && (amd64 || arm64) && cgo

package main

import (
	"github.com/libasync/libasync/executor"
)

// engine is the executor behind a runtime handle: a work-stealing
// executor.Runtime.
type engine struct {
	*executor.Runtime
}

// newEngine starts an executor on driver name ("" for the default) with
// workers workers (0: one per CPU).
func newEngine(name string, workers int) (engine, error) {
	opts := []executor.Option{executor.WithDriver(name)}
	if workers > 0 {
		opts = append(opts, executor.WithWorkers(workers))
	}
	rt, err := executor.NewRuntime(opts...)
	return engine{rt}, err
}

// Services is what the executor lends to the futures it polls, for a poll
// made on another thread that needs the runtime's reactor (a listen, which
// completes in that one poll).
func (e engine) Services() any { return e.Runtime }
