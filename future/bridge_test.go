package future

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/libasync/libasync/internal/leakcheck"
)

func TestContextDone(t *testing.T) {
	leakcheck.Check(t)
	t.Run("cancelled from another goroutine", func(t *testing.T) {
		leakcheck.Check(t)
		ctx, cancel := context.WithCancel(context.Background())
		f := ContextDone(ctx)
		go cancel() // before or after the first poll: both must work
		if err := BlockOn(f); !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
	})
	t.Run("already done", func(t *testing.T) {
		leakcheck.Check(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err, ok := pollWith(ContextDone(ctx), &wakeCounter{}).Value(); !ok || !errors.Is(err, context.Canceled) {
			t.Fatalf("first poll = %v, %v", err, ok)
		}
	})
	t.Run("deadline, not early", func(t *testing.T) {
		leakcheck.Check(t)
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		defer cancel()
		if err := BlockOn(ContextDone(ctx)); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v", err)
		}
		if time.Since(start) < 5*time.Millisecond {
			t.Fatal("Ready before the deadline")
		}
	})
	t.Run("drop unregisters", func(t *testing.T) {
		leakcheck.Check(t)
		ctx, cancel := context.WithCancel(context.Background())
		w := &wakeCounter{}
		f := ContextDone(ctx)
		pollWith(f, w)
		stop := f.(*ctxDone).stop
		Drop(f)
		if stop() {
			t.Fatal("the AfterFunc registration survived Drop")
		}
		cancel()
		if w.Count() != 0 {
			t.Fatal("a dropped ContextDone woke its waker")
		}
	})
}

func TestWithContext(t *testing.T) {
	leakcheck.Check(t)
	t.Run("future first", func(t *testing.T) {
		leakcheck.Check(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		g := &gate[int]{}
		go func() {
			for !g.waiting() {
				runtime.Gosched()
			}
			g.Open(9)
		}()
		if r := BlockOn(WithContext[int](ctx, g)); r != Ok(9) || g.drops.Load() != 0 {
			t.Fatalf("got %v, %d drops", r, g.drops.Load())
		}
	})
	t.Run("cancelled first drops the future", func(t *testing.T) {
		leakcheck.Check(t)
		ctx, cancel := context.WithCancel(context.Background())
		g := &gate[int]{}
		go func() {
			for !g.waiting() {
				runtime.Gosched()
			}
			cancel()
		}()
		if r := BlockOn(WithContext[int](ctx, g)); !errors.Is(r.Err, context.Canceled) || g.drops.Load() != 1 {
			t.Fatalf("got %v, %d drops; want Canceled, 1", r, g.drops.Load())
		}
	})
	t.Run("done before the first poll", func(t *testing.T) {
		leakcheck.Check(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		l := &eventLog{}
		s := script(l, "f", Ready(1))
		if r, _ := pollWith(WithContext[int](ctx, s), &wakeCounter{}).Value(); !errors.Is(r.Err, context.Canceled) || s.polls != 0 || s.drops != 1 {
			t.Fatalf("got %v; f polled %d times, dropped %d", r, s.polls, s.drops)
		}
	})
	t.Run("dropped", func(t *testing.T) {
		leakcheck.Check(t)
		g := &gate[int]{}
		f := WithContext[int](context.Background(), g)
		pollWith(f, &wakeCounter{})
		Drop(f)
		if g.drops.Load() != 1 {
			t.Fatalf("inner future dropped %d times", g.drops.Load())
		}
	})
}

func TestChanReceiver(t *testing.T) {
	leakcheck.Check(t)
	t.Run("value ready", func(t *testing.T) {
		leakcheck.Check(t)
		ch := make(chan int, 1)
		ch <- 4
		if r, ok := pollWith[Result[int]](FromChan(ch).Recv(), &wakeCounter{}).Value(); !ok || r != Ok(4) {
			t.Fatalf("got %v, %v", r, ok)
		}
	})
	t.Run("value sent later", func(t *testing.T) {
		leakcheck.Check(t)
		ch := make(chan int)
		go func() { ch <- 5 }()
		if r := BlockOn[Result[int]](FromChan(ch).Recv()); r != Ok(5) {
			t.Fatalf("got %v", r)
		}
	})
	t.Run("closed", func(t *testing.T) {
		leakcheck.Check(t)
		ch := make(chan int)
		r := FromChan(ch)
		f := r.Recv()
		pollWith[Result[int]](f, &wakeCounter{})
		close(ch)
		if got := BlockOn[Result[int]](f); !errors.Is(got.Err, ErrClosed) {
			t.Fatalf("got %v", got)
		}
		if _, err := r.TryRecv(); !errors.Is(err, ErrClosed) {
			t.Fatalf("TryRecv = %v", err)
		}
	})
	t.Run("dropped while waiting ends the helper", func(t *testing.T) {
		leakcheck.Check(t)
		ch := make(chan int)
		r := FromChan(ch)
		f := r.Recv()
		pollWith[Result[int]](f, &wakeCounter{})
		f.Drop()
		if _, err := r.TryRecv(); !errors.Is(err, ErrEmpty) {
			t.Fatalf("TryRecv = %v", err)
		}
	})
}

// TestChanReceiverNeverLosesAValue races a send against the Drop of the
// future waiting for it: the value is received exactly once, either by the
// future or later from the ChanReceiver.
func TestChanReceiverNeverLosesAValue(t *testing.T) {
	leakcheck.Check(t)
	ch := make(chan int)
	r := FromChan(ch)
	var got []int
	for i := range 300 {
		f := r.Recv()
		if res, ok := pollWith[Result[int]](f, &wakeCounter{}).Value(); ok {
			t.Fatalf("round %d: Ready with nothing sent: %v", i, res)
		}
		sent := make(chan struct{})
		go func() {
			ch <- i
			close(sent)
		}()
		if i%2 == 0 {
			runtime.Gosched()
		}
		if res, ok := pollWith[Result[int]](f, &wakeCounter{}).Value(); ok {
			got = append(got, res.Value)
			f.Drop() // a finished future tolerates Drop
		} else {
			f.Drop()
			// The sender may still be blocked: receive its value the
			// ordinary way.
			got = append(got, BlockOn[Result[int]](r.Recv()).Value)
		}
		<-sent
	}
	if r.Buffered() != 0 {
		t.Fatalf("%d values left held", r.Buffered())
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("round %d received %d", i, v)
		}
	}
}

func TestChanReceiverConcurrentRecvs(t *testing.T) {
	leakcheck.Check(t)
	const receivers, total = 4, 400
	ch := make(chan int)
	r := FromChan(ch)
	var mu sync.Mutex
	var got []int
	var wg sync.WaitGroup
	for range receivers {
		wg.Go(func() {
			for {
				res := BlockOn[Result[int]](r.Recv())
				if res.Err != nil {
					return
				}
				mu.Lock()
				got = append(got, res.Value)
				mu.Unlock()
			}
		})
	}
	for i := range total {
		ch <- i
	}
	close(ch)
	wg.Wait()
	slices.Sort(got)
	if len(got) != total {
		t.Fatalf("received %d values, want %d", len(got), total)
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("value %d missing or duplicated", i)
		}
	}
}
