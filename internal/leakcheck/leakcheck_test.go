package leakcheck

import (
	"strings"
	"testing"
)

// fakeTB records failures instead of failing, so that a leak can be provoked.
type fakeTB struct {
	testing.TB
	cleanups []func()
	errors   []string
}

func (f *fakeTB) Helper()               {}
func (f *fakeTB) Cleanup(fn func())     { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Errorf(string, ...any) { f.errors = append(f.errors, "leak") }

func (f *fakeTB) finish() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

func TestNoLeak(t *testing.T) {
	f := &fakeTB{TB: t}
	Check(f)
	done := make(chan struct{})
	go func() { close(done) }()
	<-done
	f.finish()
	if len(f.errors) != 0 {
		t.Fatalf("a goroutine that ended was reported as a leak")
	}
}

func TestGoroutineThatEndsLateIsNoLeak(t *testing.T) {
	f := &fakeTB{TB: t}
	Check(f)
	release := make(chan struct{})
	go func() { <-release }()
	f.cleanups = append([]func(){func() {}}, f.cleanups...)
	go func() { close(release) }()
	f.finish()
	if len(f.errors) != 0 {
		t.Fatalf("a goroutine that ended within the grace period was reported as a leak")
	}
}

func TestLeakIsFound(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	before := goroutineIDs(snapshot())
	started := make(chan struct{})
	go func() { close(started); <-stop }()
	<-started
	got := leaks(snapshot(), before)
	if len(got) != 1 || !strings.Contains(got[0], "TestLeakIsFound") {
		t.Fatalf("leaks = %q, want the one goroutine of TestLeakIsFound", got)
	}
}

func TestGoroutineID(t *testing.T) {
	for _, c := range []struct {
		in   string
		id   uint64
		isOK bool
	}{
		{"goroutine 42 [running]:\nmain.main()", 42, true},
		{"goroutine x [running]:", 0, false},
		{"garbage", 0, false},
	} {
		id, ok := goroutineID(c.in)
		if id != c.id || ok != c.isOK {
			t.Errorf("goroutineID(%q) = %d, %v; want %d, %v", c.in, id, ok, c.id, c.isOK)
		}
	}
}
