//go:build (linux || darwin || netbsd) && (amd64 || arm64) && cgo

package main

import (
	"github.com/libasync/libasync/executor"
	"github.com/libasync/libasync/future"
)

// engine is the executor behind a runtime handle.
type engine interface {
	executor.Spawner
	// Close aborts every task (dropping its future once) and returns
	// after the executor's goroutines stopped.
	Close() error
	// DriverName is the readiness driver's name.
	DriverName() string
	// Services is what the executor lends to the futures it polls, for a
	// poll made on another thread that needs the runtime's reactor (a
	// listen, which completes in that one poll).
	Services() any
}

// localEngine runs an executor.Local on a goroutine of its own.
type localEngine struct {
	*executor.Local
	done chan struct{}
}

// newEngine starts an executor on driver name ("" for the default).
func newEngine(name string, workers int) (engine, error) {
	l, err := executor.NewLocal(executor.WithDriver(name))
	if err != nil {
		return nil, err
	}
	e := &localEngine{Local: l, done: make(chan struct{})}
	go func() {
		defer close(e.done)
		// Runs the executor until Close makes BlockOn return.
		_, _ = executor.BlockOn[struct{}](l, forever{})
	}()
	return e, nil
}

func (e *localEngine) Services() any { return e.Local }

func (e *localEngine) Close() error {
	err := e.Local.Close()
	<-e.done
	return err
}

// forever is a future that never completes: it keeps the loop of a
// localEngine running until the executor closes.
type forever struct{}

func (forever) Poll(*future.Context) future.Poll[struct{}] { return future.Pending[struct{}]() }
