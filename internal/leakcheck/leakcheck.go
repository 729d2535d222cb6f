// Package leakcheck fails a test that leaves a goroutine of libasync running.
//
// Call Check(t) at the start of a test: when the test ends, every goroutine
// that was started after that call and still runs code of this module (the
// library's or the test's own) is a leak. Goroutines get a grace period to
// finish, since a closed runtime's workers may need a moment to return.
package leakcheck

import (
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const module = "github.com/libasync/libasync/"

// grace is how long goroutines get to exit after the test; generous, because
// it is only ever spent by a test that is already failing.
const grace = 10 * time.Second

// Check records the goroutines running now, and registers a cleanup that
// fails t if goroutines of this module started since are still running once
// the test and its other cleanups are done (cleanups run last-in first-out,
// so call Check first to check after every other cleanup).
func Check(t testing.TB) {
	t.Helper()
	before := goroutineIDs(snapshot())
	t.Cleanup(func() {
		var leaked []string
		deadline := time.Now().Add(grace)
		for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
			leaked = leaks(snapshot(), before)
			if len(leaked) == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(wait)
		}
		if len(leaked) > 0 {
			t.Errorf("leakcheck: %d goroutine(s) still running after the test:\n\n%s",
				len(leaked), strings.Join(leaked, "\n\n"))
		}
	})
}

// snapshot returns the stack of every goroutine, one string each.
func snapshot() []string {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Split(strings.TrimSpace(string(buf[:n])), "\n\n")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// goroutineIDs returns the ids of the goroutines in stacks.
func goroutineIDs(stacks []string) []uint64 {
	ids := make([]uint64, 0, len(stacks))
	for _, s := range stacks {
		if id, ok := goroutineID(s); ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// goroutineID parses the id from the header "goroutine 42 [running]:".
func goroutineID(stack string) (uint64, bool) {
	rest, ok := strings.CutPrefix(stack, "goroutine ")
	if !ok {
		return 0, false
	}
	num, _, ok := strings.Cut(rest, " ")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseUint(num, 10, 64)
	return id, err == nil
}

// leaks returns the stacks of goroutines that are not in before, run code of
// this module, and are not a test's own goroutine (tests running in parallel,
// and the one checking).
func leaks(stacks []string, before []uint64) []string {
	var out []string
	for _, s := range stacks {
		id, ok := goroutineID(s)
		if !ok || slices.Contains(before, id) {
			continue
		}
		if !strings.Contains(s, module) || strings.Contains(s, "testing.tRunner") {
			continue
		}
		out = append(out, s)
	}
	return out
}
