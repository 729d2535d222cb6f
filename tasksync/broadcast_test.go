package tasksync

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/leakcheck"
)

func newBroadcast[T any](t *testing.T, capacity int) *BroadcastSender[T] {
	t.Helper()
	tx, err := NewBroadcast[T](capacity)
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

func TestBroadcast(t *testing.T) {
	leakcheck.Check(t)
	if _, err := NewBroadcast[int](0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("capacity 0: %v", err)
	}
	tx := newBroadcast[int](t, 2)
	tx.Send(0) // before anyone subscribed: nobody gets it
	r1, r2 := tx.Subscribe(), tx.Subscribe()
	w1 := &wakeCounter{}
	mustPending(t, r1.Recv(), w1)
	if _, err := r2.TryRecv(); !errors.Is(err, future.ErrEmpty) {
		t.Fatalf("TryRecv of nothing: %v", err)
	}
	tx.Send(1)
	tx.Send(2)
	if w1.Count() != 1 {
		t.Fatalf("%d wakes, want 1", w1.Count())
	}
	for _, r := range []*BroadcastReceiver[int]{r1, r2} {
		for want := 1; want <= 2; want++ {
			if res := mustReady[future.Result[int]](t, r.Recv(), w1); res.Value != want || res.Err != nil {
				t.Fatalf("Recv = %v, want %d", res, want)
			}
		}
	}

	// r2 falls behind by three values in a ring of two: one is lost.
	for v := 3; v <= 5; v++ {
		tx.Send(v)
	}
	var lagged *LaggedError
	if _, err := r2.TryRecv(); !errors.As(err, &lagged) || lagged.Missed != 1 {
		t.Fatalf("TryRecv behind the ring: %v, want LaggedError{1}", err)
	}
	for want := 4; want <= 5; want++ {
		if v, err := r2.TryRecv(); v != want || err != nil {
			t.Fatalf("after the lag: %d, %v, want %d", v, err, want)
		}
	}

	// A dropped Recv loses nothing.
	mustPending(t, r2.Recv(), w1)
	r2.Recv().Drop()
	tx.Send(6)
	if v, err := r2.TryRecv(); v != 6 || err != nil {
		t.Fatalf("after a dropped Recv: %d, %v", v, err)
	}

	// Close: what is left for r1 first, then ErrClosed for both.
	w2 := &wakeCounter{}
	mustPending(t, r2.Recv(), w2)
	tx.Close()
	tx.Close()
	if w2.Count() != 1 {
		t.Fatal("Close did not wake the waiting receiver")
	}
	if err := tx.Send(7); !errors.Is(err, future.ErrClosed) {
		t.Fatalf("Send after Close: %v", err)
	}
	if res := mustReady[future.Result[int]](t, r1.Recv(), w1); !errors.As(res.Err, &lagged) || lagged.Missed != 2 {
		t.Fatalf("r1 after Close: %v, want the lag first", res)
	}
	for want := 5; want <= 6; want++ {
		if res := mustReady[future.Result[int]](t, r1.Recv(), w1); res.Value != want {
			t.Fatalf("r1 drains %v, want %d", res, want)
		}
	}
	for _, r := range []*BroadcastReceiver[int]{r1, r2} {
		if res := mustReady[future.Result[int]](t, r.Recv(), w1); !errors.Is(res.Err, future.ErrClosed) {
			t.Fatalf("Recv after Close and drain: %v", res)
		}
		if _, err := r.TryRecv(); !errors.Is(err, future.ErrClosed) {
			t.Fatalf("TryRecv after Close and drain: %v", err)
		}
	}
}

// TestSendWakesEveryWaiter: a Send, and then the Close, wakes each of many
// waiting receivers once; watch and broadcast share that code.
func TestSendWakesEveryWaiter(t *testing.T) {
	leakcheck.Check(t)
	const receivers = 100
	tx := newBroadcast[int](t, 1)
	ws := make([]*wakeCounter, receivers)
	rxs := make([]*BroadcastReceiver[int], receivers)
	for i := range rxs {
		rxs[i], ws[i] = tx.Subscribe(), &wakeCounter{}
		mustPending(t, rxs[i].Recv(), ws[i])
	}
	tx.Send(1)
	for i, r := range rxs {
		if ws[i].Count() != 1 {
			t.Fatalf("receiver %d woken %d times by one Send", i, ws[i].Count())
		}
		if res := mustReady[future.Result[int]](t, r.Recv(), ws[i]); res.Value != 1 {
			t.Fatalf("receiver %d: %v", i, res)
		}
		mustPending(t, r.Recv(), ws[i])
	}
	tx.Close()
	for i := range rxs {
		if ws[i].Count() != 2 {
			t.Fatalf("receiver %d woken %d times in all, want 2", i, ws[i].Count())
		}
	}
}

// TestBroadcastStress: a goroutine sends 1..n through a small ring while
// tasks on the Runtime receive with chaos dropping their waits; every
// receiver accounts for every value, received in order or reported missed,
// and ends with ErrClosed.
func TestBroadcastStress(t *testing.T) {
	leakcheck.Check(t)
	const receivers, values = 100, 2000
	base := seed(t)
	for _, capacity := range []int{4, values} {
		tx := newBroadcast[int](t, capacity)
		rxs := make([]*BroadcastReceiver[int], receivers)
		for i := range rxs {
			rxs[i] = tx.Subscribe()
		}
		// With a ring for every value, paced, so that receivers wait
		// often; with the small one flat out, so that they lag.
		feed := startFeeder(receivers, values, capacity == values, func(v int) { tx.Send(v) }, tx.Close)
		runTasks(t, 2, receivers, func(i int) future.Future[struct{}] {
			return future.Async(func(a *future.Awaiter) struct{} {
				rng := rand.New(rand.NewPCG(base, uint64(i)))
				feed.started.Done()
				next := 1 // the value expected next
				for {
					r, ok := maybeDropped[future.Result[int]](a, rng, rxs[i].Recv())
					if !ok {
						continue
					}
					var lagged *LaggedError
					switch {
					case errors.As(r.Err, &lagged):
						next += int(lagged.Missed)
					case r.Err != nil:
						if !errors.Is(r.Err, future.ErrClosed) || next != values+1 {
							t.Errorf("receiver %d: %v with %d next", i, r.Err, next)
						}
						return struct{}{}
					case r.Value != next:
						t.Errorf("receiver %d: %d, want %d", i, r.Value, next)
						return struct{}{}
					default:
						feed.took(next)
						next++
					}
				}
			})
		})
		feed.done.Wait()
	}
}
