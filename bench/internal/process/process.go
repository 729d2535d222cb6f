// Package process holds the process setup that the benchmark's peer servers
// and clients share: as many open descriptors as the system allows, and a
// CPU profile that lasts until the harness stops the process.
package process

import (
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
)

// RaiseFileLimit lifts the soft limit on open files to the hard one, since
// every connection is a descriptor. Failure leaves the limit as it was.
func RaiseFileLimit() {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < lim.Max {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
}

// ProfileUntilSignal starts a CPU profile into the file at path; at SIGINT or
// SIGTERM the profile is written out and the process exits with status 0.
func ProfileUntilSignal(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		pprof.StopCPUProfile()
		f.Close()
		os.Exit(0)
	}()
	return nil
}
