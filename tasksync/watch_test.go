package tasksync

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/leakcheck"
)

func TestWatch(t *testing.T) {
	leakcheck.Check(t)
	tx := NewWatch("a")
	rx := tx.Subscribe()
	if rx.Borrow() != "a" || tx.Borrow() != "a" {
		t.Fatal("initial value not readable")
	}
	if changed, err := rx.HasChanged(); changed || err != nil {
		t.Fatalf("HasChanged of a new receiver: %v, %v", changed, err)
	}
	w := &wakeCounter{}
	mustPending(t, rx.Changed(), w)
	tx.Send("b")
	tx.Send("c") // a slow receiver sees only the latest
	if w.Count() != 1 {
		t.Fatalf("%d wakes, want 1", w.Count())
	}
	if r := mustReady[future.Result[string]](t, rx.Changed(), w); r.Value != "c" || r.Err != nil {
		t.Fatalf("Changed = %v", r)
	}
	mustPending(t, rx.Changed(), w)

	// A change made while nobody waits is still reported, once.
	clone := rx.Clone()
	rx.Changed().Drop() // dropping the wait marks nothing seen
	tx.Send("d")
	if changed, _ := rx.HasChanged(); !changed {
		t.Fatal("HasChanged missed a Send")
	}
	if rx.Borrow() != "d" {
		t.Fatal("Borrow did not see the Send")
	}
	if changed, _ := rx.HasChanged(); !changed {
		t.Fatal("Borrow marked the value seen")
	}
	if rx.BorrowAndUpdate() != "d" {
		t.Fatal("BorrowAndUpdate")
	}
	if changed, _ := rx.HasChanged(); changed {
		t.Fatal("BorrowAndUpdate did not mark the value seen")
	}
	if r := mustReady[future.Result[string]](t, clone.Changed(), w); r.Value != "d" {
		t.Fatalf("the clone's Changed = %v", r)
	}

	// Close: an unseen value first, then ErrClosed; Sends fail.
	tx.Send("e")
	w2 := &wakeCounter{}
	clone.BorrowAndUpdate()
	mustPending(t, clone.Changed(), w2)
	tx.Close()
	tx.Close()
	if w2.Count() != 1 {
		t.Fatal("Close did not wake the waiter")
	}
	if err := tx.Send("f"); !errors.Is(err, future.ErrClosed) {
		t.Fatalf("Send after Close: %v", err)
	}
	if r := mustReady[future.Result[string]](t, rx.Changed(), w); r.Value != "e" {
		t.Fatalf("the value sent before Close: %v", r)
	}
	for _, r := range []*WatchReceiver[string]{rx, clone} {
		if res := mustReady[future.Result[string]](t, r.Changed(), w); !errors.Is(res.Err, future.ErrClosed) {
			t.Fatalf("Changed after Close: %v", res)
		}
		if _, err := r.HasChanged(); !errors.Is(err, future.ErrClosed) {
			t.Fatalf("HasChanged after Close: %v", err)
		}
	}
	if rx.Borrow() != "e" {
		t.Fatal("the last value is not readable after Close")
	}
}

// TestWatchStress: a goroutine sends 1..n while tasks on the Runtime wait
// in Changed, chaos dropping their waits; each sees increasing values and
// ends with n, then ErrClosed.
func TestWatchStress(t *testing.T) {
	leakcheck.Check(t)
	const receivers, values = 32, 2000
	base := seed(t)
	tx := NewWatch(0)
	rxs := make([]*WatchReceiver[int], receivers)
	for i := range rxs {
		rxs[i] = tx.Subscribe()
	}
	// Paced: the receivers are to wait often, not find a newer value.
	feed := startFeeder(receivers, values, true, func(v int) { tx.Send(v) }, tx.Close)
	runTasks(t, 2, receivers, func(i int) future.Future[struct{}] {
		return future.Async(func(a *future.Awaiter) struct{} {
			rng := rand.New(rand.NewPCG(base, uint64(i)))
			feed.started.Done()
			last := 0
			for {
				r, ok := maybeDropped[future.Result[int]](a, rng, rxs[i].Changed())
				if !ok {
					continue
				}
				if r.Err != nil {
					if !errors.Is(r.Err, future.ErrClosed) || last != values {
						t.Errorf("receiver %d: %v after %d", i, r.Err, last)
					}
					return struct{}{}
				}
				if r.Value <= last {
					t.Errorf("receiver %d: %d after %d", i, r.Value, last)
				}
				last = r.Value
				feed.took(last)
			}
		})
	})
	feed.done.Wait()
}
