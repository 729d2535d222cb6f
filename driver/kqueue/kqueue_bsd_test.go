//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package kqueue

import (
	"testing"

	"github.com/libasync/libasync/driver/drivertest"
)

// The conformance suite, on the real kqueue; it runs where the package does.
func TestConformance(t *testing.T) {
	drivertest.Run(t, Open)
}

// BenchmarkKqueue runs the drivers' shared benchmarks on kqueue.
func BenchmarkKqueue(b *testing.B) {
	drivertest.Bench(b, Open)
}
