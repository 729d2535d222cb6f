//go:build (darwin || linux || netbsd || windows) && (amd64 || arm64)

package ffi_test

import (
	"testing"
	"time"

	"github.com/libasync/libasync/capi/ffi"
	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/internal/leakcheck"
	"github.com/libasync/libasync/internal/readable"
)

func TestNotifier(t *testing.T) {
	leakcheck.Check(t)
	n, err := ffi.NewNotifier()
	if err != nil {
		t.Fatal(err)
	}
	if readableNow(t, n.Fd()) {
		t.Fatal("readable with nothing queued")
	}
	n.Notify(1)
	n.Notify(2)
	n.Notify(1) // coalesces
	if !becomesReadable(t, n.Fd()) {
		t.Fatal("not readable with tags queued")
	}
	tags := make([]uint64, 1)
	if k := n.Drain(tags); k != 1 || tags[0] != 1 {
		t.Fatalf("Drain = %d %v, want [1]", k, tags)
	}
	if !becomesReadable(t, n.Fd()) {
		t.Fatal("not readable with a tag left")
	}
	tags = make([]uint64, 8)
	if k := n.Drain(tags); k != 1 || tags[0] != 2 {
		t.Fatalf("Drain = %d %v, want [2]", k, tags[:k])
	}
	if readableNow(t, n.Fd()) {
		t.Fatal("readable after draining everything")
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n.Notify(3) // after Close: nothing
	if err := n.Close(); ffi.CodeOf(err) != ffi.EINVAL {
		t.Fatalf("second Close = %v, want EINVAL", err)
	}
}

// TestNotifierManyRounds: the descriptor follows the queue through many
// raise and clear rounds (on Windows, a byte sent and received on a
// loopback pair each round).
func TestNotifierManyRounds(t *testing.T) {
	leakcheck.Check(t)
	n, err := ffi.NewNotifier()
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	tags := make([]uint64, 4)
	for i := range uint64(200) {
		n.Notify(i)
		if !becomesReadable(t, n.Fd()) {
			t.Fatalf("round %d: not readable with a tag queued", i)
		}
		if k := n.Drain(tags); k != 1 || tags[0] != i {
			t.Fatalf("round %d: Drain = %d %v", i, k, tags[:k])
		}
		if readableNow(t, n.Fd()) {
			t.Fatalf("round %d: readable after the drain", i)
		}
	}
}

func readableNow(t *testing.T, fd int) bool {
	t.Helper()
	return readable.Within(t, driver.FD(fd), 0)
}

// becomesReadable waits up to 5 s: on Windows the notifier's byte crosses a
// loopback connection, which need not have happened when Notify returns.
func becomesReadable(t *testing.T, fd int) bool {
	t.Helper()
	return readable.Within(t, driver.FD(fd), 5*time.Second)
}
