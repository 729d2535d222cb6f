//go:build (darwin || linux || netbsd || windows) && (amd64 || arm64)

package ffi_test

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ebitengine/purego"
	"github.com/libasync/libasync/capi/ffi"
	"github.com/libasync/libasync/executor"
	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/leakcheck"
)

// clib is testdata/futures.c, built when the tests start (on Windows,
// beforehand: see openCLib) and loaded: the functions below are bound to it
// with purego.
var clib struct {
	err error

	countdownPoll, countdownDrop uintptr
	threadedPoll, threadedDrop   uintptr

	countdownNew   func(left int32, code int32, value uint64) uintptr
	countdownPolls func(uintptr) int32
	countdownDrops func(uintptr) int32
	countdownFree  func(uintptr)
	threadedNew    func() uintptr
	threadedDrops  func(uintptr) int32
	threadedFree   func(uintptr)
	countedNew     func() uintptr
	countedVTable  func() *ffi.VTable
	countedGet     func(uintptr, int32) int32
	countedFree    func(uintptr)
	wakeByRef      func(*ffi.Waker)
	cloneWake      func(*ffi.Waker)
	wakerDrop      func(*ffi.Waker)
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ffi-test")
	if err != nil {
		panic(err)
	}
	clib.err = loadCLib(dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func loadCLib(dir string) error {
	sym, err := openCLib(dir)
	if err != nil {
		return err
	}
	for name, p := range map[string]*uintptr{
		"countdown_poll": &clib.countdownPoll, "countdown_drop": &clib.countdownDrop,
		"threaded_poll": &clib.threadedPoll, "threaded_drop": &clib.threadedDrop,
	} {
		if *p, err = sym(name); err != nil {
			return err
		}
	}
	for name, fn := range map[string]any{
		"countdown_new": &clib.countdownNew, "countdown_polls": &clib.countdownPolls,
		"countdown_drops": &clib.countdownDrops, "countdown_free": &clib.countdownFree,
		"threaded_new": &clib.threadedNew, "threaded_drops": &clib.threadedDrops,
		"threaded_free": &clib.threadedFree, "counted_new": &clib.countedNew,
		"counted_vtable_ptr": &clib.countedVTable, "counted_get": &clib.countedGet,
		"counted_free": &clib.countedFree, "waker_wake_by_ref": &clib.wakeByRef,
		"waker_clone_wake": &clib.cloneWake, "waker_drop": &clib.wakerDrop,
	} {
		addr, err := sym(name)
		if err != nil {
			return err
		}
		purego.RegisterFunc(fn, addr)
	}
	return nil
}

// needCLib skips a test when the C library could not be built, unless
// LIBASYNC_REQUIRE_CC is set (as in the ffi-nocgo leg of make test).
func needCLib(t *testing.T) {
	t.Helper()
	if clib.err == nil {
		return
	}
	if os.Getenv("LIBASYNC_REQUIRE_CC") != "" {
		t.Fatalf("no C library of test futures: %v", clib.err)
	}
	t.Skipf("no C library of test futures: %v", clib.err)
}

// run spawns f on a new work-stealing Runtime and returns its outcome.
func run(t *testing.T, f future.Future[future.Result[uint64]]) (uint64, error) {
	t.Helper()
	rt, err := executor.NewRuntime(executor.WithWorkers(2))
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	jh, err := executor.Spawn(rt, f)
	if err != nil {
		t.Fatal(err)
	}
	r, err := executor.BlockOn(rt, jh)
	if err != nil {
		t.Fatal(err)
	}
	if r.Err != nil { // the task itself failed (aborted, panicked)
		return 0, r.Err
	}
	return r.Value.Unwrap()
}

func TestForeignFutureOutcomes(t *testing.T) {
	leakcheck.Check(t)
	needCLib(t)
	cases := []struct {
		left  int32
		code  int32
		value uint64
		want  ffi.Code
	}{
		{0, 0, 42, ffi.OK},
		{5, 0, 7, ffi.OK},
		{2, -100, 0, -100},
		{0, -4242, 0, -4242},
		{1, -5, 0, ffi.EINVAL},  // reserved for libasync
		{0, 2, 0, ffi.EINVAL},   // out of range
		{0, -99, 0, ffi.EINVAL}, // reserved
	}
	for _, c := range cases {
		state := clib.countdownNew(c.left, c.code, c.value)
		f, err := ffi.NewForeign(clib.countdownPoll, clib.countdownDrop, state)
		if err != nil {
			t.Fatal(err)
		}
		v, err := run(t, f)
		if got := ffi.CodeOf(err); got != c.want {
			t.Errorf("left %d code %d: outcome %v (%v), want code %d", c.left, c.code, got, err, c.want)
		}
		if c.want == ffi.OK && v != c.value {
			t.Errorf("left %d: value %d, want %d", c.left, v, c.value)
		}
		if polls := clib.countdownPolls(state); polls != c.left+1 {
			t.Errorf("left %d: %d polls, want %d", c.left, polls, c.left+1)
		}
		if drops := clib.countdownDrops(state); drops != 1 {
			t.Errorf("left %d: drop called %d times, want 1", c.left, drops)
		}
		clib.countdownFree(state)
	}
}

func TestForeignFutureNilPoll(t *testing.T) {
	leakcheck.Check(t)
	if _, err := ffi.NewForeign(0, 0, 0); ffi.CodeOf(err) != ffi.EINVAL {
		t.Fatalf("NewForeign(0, ...) = %v, want EINVAL", err)
	}
}

func TestForeignFutureDroppedOnce(t *testing.T) {
	leakcheck.Check(t)
	needCLib(t)
	// A future that wakes itself for ever, aborted: dropped once.
	state := clib.countdownNew(1<<30, 0, 0)
	defer clib.countdownFree(state)
	f, _ := ffi.NewForeign(clib.countdownPoll, clib.countdownDrop, state)
	l, err := executor.NewLocal()
	if err != nil {
		t.Fatal(err)
	}
	jh, _ := executor.Spawn(l, future.Future[future.Result[uint64]](f))
	// Run the loop a while (the task polls itself meanwhile), then abort.
	if _, err := executor.BlockOn(l, executor.Sleep(2*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if clib.countdownPolls(state) == 0 {
		t.Fatal("the task was not polled")
	}
	jh.Abort()
	r, err := executor.BlockOn(l, jh)
	if err != nil || !errors.Is(r.Err, future.ErrAborted) {
		t.Fatalf("aborted task: %v %v", r.Err, err)
	}
	l.Close()
	if drops := clib.countdownDrops(state); drops != 1 {
		t.Fatalf("drop called %d times, want 1", drops)
	}
	f.Drop() // a second Drop does nothing
	if drops := clib.countdownDrops(state); drops != 1 {
		t.Fatalf("drop called %d times after a second Drop, want 1", drops)
	}
}

// TestWokenFromCThread: the runtime-made waker (purego callbacks, no cgo)
// cloned by the host and woken from a thread the host created.
func TestWokenFromCThread(t *testing.T) {
	leakcheck.Check(t)
	needCLib(t)
	for range 20 {
		state := clib.threadedNew()
		f, _ := ffi.NewForeign(clib.threadedPoll, clib.threadedDrop, state)
		v, err := run(t, f)
		if err != nil || v != 5 {
			t.Fatalf("outcome %d, %v; want 5", v, err)
		}
		if drops := clib.threadedDrops(state); drops != 1 {
			t.Fatalf("drop called %d times, want 1", drops)
		}
		clib.threadedFree(state)
	}
}

// TestHostWaker: one clone held at a time, used up exactly once.
func TestHostWaker(t *testing.T) {
	leakcheck.Check(t)
	needCLib(t)
	a, b := clib.countedNew(), clib.countedNew()
	defer clib.countedFree(a)
	defer clib.countedFree(b)
	vt := clib.countedVTable()
	wa, wb := &ffi.Waker{Data: a, VTable: vt}, &ffi.Waker{Data: b, VTable: vt}
	get := func(p uintptr) [4]int32 {
		return [4]int32{clib.countedGet(p, 0), clib.countedGet(p, 1), clib.countedGet(p, 2), clib.countedGet(p, 3)}
	}
	var hw ffi.HostWaker
	hw.Set(wa)
	hw.Set(wa) // the same waker: the clone is kept
	if got := get(a); got != [4]int32{1, 0, 1, 0} {
		t.Fatalf("after two Sets of a: live, wakes, clones, drops = %v", got)
	}
	hw.Set(wb) // replaces: a's clone is dropped
	if got := get(a); got != [4]int32{0, 0, 1, 1} {
		t.Fatalf("a after Set(b): %v", got)
	}
	hw.Wake()
	hw.Wake() // nothing held any more
	if got := get(b); got != [4]int32{0, 1, 1, 0} {
		t.Fatalf("b after Wake: %v", got)
	}
	hw.Set(wa)
	hw.Clear()
	hw.Clear()
	if got := get(a); got != [4]int32{0, 0, 2, 2} {
		t.Fatalf("a after Set and Clear: %v", got)
	}
	// Wakes racing Clears and Sets from many goroutines: every clone is
	// used up once.
	race(&hw, wa)
	if live := clib.countedGet(a, 0); live != 0 {
		t.Fatalf("%d clones of a left after the race", live)
	}
}

// race runs Sets of w, Wakes and Clears of hw from 8 goroutines at once,
// then clears it.
func race(hw *ffi.HostWaker, w *ffi.Waker) {
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 200 {
				switch (i + j) % 3 {
				case 0:
					hw.Set(w)
				case 1:
					hw.Wake()
				default:
					hw.Clear()
				}
			}
		}()
	}
	wg.Wait()
	hw.Clear()
}

// TestHostWakerRuntimeMade: a runtime-made waker (a notifier's), which
// HostWaker clones, wakes and drops in Go without going through C, still
// counts its references exactly: the handle lives while a clone is held and
// goes with the last one.
func TestHostWakerRuntimeMade(t *testing.T) {
	leakcheck.Check(t)
	n, err := ffi.NewNotifier()
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	live := func(w ffi.Waker) bool {
		_, ok := ffi.Handles.Get(ffi.Handle(w.Data))
		return ok
	}
	w, err := n.NewWaker(7)
	if err != nil {
		t.Fatal(err)
	}
	var hw ffi.HostWaker
	hw.Set(&w)
	hw.Set(&w) // the same waker: the clone is kept
	ffi.WakerDrop(w.Data)
	if !live(w) {
		t.Fatal("handle gone while the HostWaker holds a clone")
	}
	hw.Wake()
	tags := make([]uint64, 4)
	if k := n.Drain(tags); k != 1 || tags[0] != 7 {
		t.Fatalf("Drain after Wake = %d %v, want [7]", k, tags[:k])
	}
	if live(w) {
		t.Fatal("handle live after the woken clone was the last reference")
	}
	a, err := n.NewWaker(1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := n.NewWaker(2)
	if err != nil {
		t.Fatal(err)
	}
	hw.Set(&a)
	hw.Set(&b) // replaces: a's clone is dropped without waking
	ffi.WakerDrop(a.Data)
	if live(a) {
		t.Fatal("a's handle live after Set(b) dropped its clone and the host its own")
	}
	// Wakes racing Clears and Sets: every clone is used up once.
	race(&hw, &b)
	if k := n.Drain(tags); k > 1 || (k == 1 && tags[0] != 2) {
		t.Fatalf("Drain = %v, want at most [2]", tags[:k])
	}
	ffi.WakerDrop(b.Data)
	if live(b) {
		t.Fatal("b's handle live after every clone was used up")
	}
	if k := n.Drain(tags); k != 0 {
		t.Fatalf("a wake queued %v after Clear returned", tags[:k])
	}
}

// TestNotifierWakerFromC: a notifier's runtime-made waker used by C code;
// the handle goes when the last reference is used up, and a stale waker
// does nothing.
func TestNotifierWakerFromC(t *testing.T) {
	leakcheck.Check(t)
	needCLib(t)
	n, err := ffi.NewNotifier()
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	w, err := n.NewWaker(9)
	if err != nil {
		t.Fatal(err)
	}
	clib.wakeByRef(&w)
	clib.cloneWake(&w) // a clone, woken: the original remains
	tags := make([]uint64, 4)
	if k := n.Drain(tags); k != 1 || tags[0] != 9 {
		t.Fatalf("Drain = %d %v, want [9]", k, tags[:k])
	}
	if _, ok := ffi.Handles.Get(ffi.Handle(w.Data)); !ok {
		t.Fatal("handle gone while a reference is held")
	}
	clib.wakerDrop(&w)
	if _, ok := ffi.Handles.Get(ffi.Handle(w.Data)); ok {
		t.Fatal("handle live after the last reference was dropped")
	}
	clib.wakeByRef(&w) // stale: nothing happens
	if k := n.Drain(tags); k != 0 {
		t.Fatalf("a stale waker queued %v", tags[:k])
	}
}

func TestHandleTable(t *testing.T) {
	leakcheck.Check(t)
	var tb ffi.Table
	obj := new(int)
	h, err := tb.Insert(ffi.KindTask, obj)
	if err != nil {
		t.Fatal(err)
	}
	if h == 0 || h.Kind() != ffi.KindTask {
		t.Fatalf("handle %#x, kind %d", uint64(h), h.Kind())
	}
	if got, ok := tb.Get(h); !ok || got != obj {
		t.Fatal("Get of a live handle failed")
	}
	for _, bad := range []ffi.Handle{0, 1, h + 1, h ^ 1<<40, ffi.Handle(ffi.KindFuture)<<56 | h&(1<<56-1), ^ffi.Handle(0)} {
		if _, ok := tb.Get(bad); ok && bad != h {
			t.Errorf("Get(%#x) found an object", uint64(bad))
		}
	}
	if _, ok := tb.Remove(h); !ok {
		t.Fatal("Remove of a live handle failed")
	}
	if _, ok := tb.Remove(h); ok {
		t.Fatal("second Remove succeeded")
	}
	h2, _ := tb.Insert(ffi.KindTask, obj)
	if h2 == h {
		t.Fatal("a reused slot gave the same handle")
	}
	if _, ok := tb.Get(h); ok {
		t.Fatal("stale handle found the slot's new object")
	}
	tb.Remove(h2)
}

func TestHandleTableConcurrent(t *testing.T) {
	leakcheck.Check(t)
	var tb ffi.Table
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hs := make([]ffi.Handle, 0, 500)
			for i := range 500 {
				v := g*1000 + i
				h, err := tb.Insert(ffi.KindFuture, v)
				if err != nil {
					errs <- err
					return
				}
				hs = append(hs, h)
			}
			for i, h := range hs {
				if got, ok := tb.Get(h); !ok || got != g*1000+i {
					errs <- fmt.Errorf("Get(%#x) = %v %v", uint64(h), got, ok)
					return
				}
				if _, ok := tb.Remove(h); !ok {
					errs <- fmt.Errorf("Remove(%#x) failed", uint64(h))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
