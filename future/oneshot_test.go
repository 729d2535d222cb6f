package future

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/libasync/libasync/internal/leakcheck"
)

func TestOneshot(t *testing.T) {
	leakcheck.Check(t)
	t.Run("send before receive", func(t *testing.T) {
		leakcheck.Check(t)
		s, r := NewOneshot[int]()
		if err := s.Send(7); err != nil {
			t.Fatal(err)
		}
		if got, ok := pollWith[Result[int]](r, &wakeCounter{}).Value(); !ok || got != Ok(7) {
			t.Fatalf("got %v, %v", got, ok)
		}
		if !s.ReceiverDropped() {
			t.Error("ReceiverDropped = false after the value was taken")
		}
	})
	t.Run("receive waits, send wakes the latest waker once", func(t *testing.T) {
		leakcheck.Check(t)
		s, r := NewOneshot[string]()
		w1, w2 := &wakeCounter{}, &wakeCounter{}
		if pollWith[Result[string]](r, w1).IsReady() || pollWith[Result[string]](r, w2).IsReady() {
			t.Fatal("Ready before Send")
		}
		if err := s.Send("x"); err != nil {
			t.Fatal(err)
		}
		if w1.Count() != 0 || w2.Count() != 1 {
			t.Errorf("wakes: old waker %d, latest %d; want 0, 1", w1.Count(), w2.Count())
		}
		if got, _ := pollWith[Result[string]](r, w2).Value(); got != Ok("x") {
			t.Errorf("got %v", got)
		}
	})
	t.Run("sender closed", func(t *testing.T) {
		leakcheck.Check(t)
		s, r := NewOneshot[int]()
		w := &wakeCounter{}
		pollWith[Result[int]](r, w)
		s.Close()
		s.Close()
		if got, _ := pollWith[Result[int]](r, w).Value(); !errors.Is(got.Err, ErrClosed) || w.Count() != 1 {
			t.Errorf("got %v after %d wakes; want ErrClosed after 1", got, w.Count())
		}
		if err := s.Send(1); !errors.Is(err, ErrClosed) {
			t.Errorf("Send after Close = %v", err)
		}
	})
	t.Run("close after send still delivers", func(t *testing.T) {
		leakcheck.Check(t)
		s, r := NewOneshot[int]()
		s.Send(3)
		s.Close()
		if got, _ := pollWith[Result[int]](r, &wakeCounter{}).Value(); got != Ok(3) {
			t.Errorf("got %v", got)
		}
	})
	t.Run("receiver dropped", func(t *testing.T) {
		leakcheck.Check(t)
		s, r := NewOneshot[int]()
		w := &wakeCounter{}
		pollWith[Result[int]](r, w)
		r.Drop()
		if !s.ReceiverDropped() {
			t.Error("ReceiverDropped = false")
		}
		if err := s.Send(1); !errors.Is(err, ErrClosed) || w.Count() != 0 {
			t.Errorf("Send = %v with %d wakes; want ErrClosed and none (the waker was released)", err, w.Count())
		}
	})
	t.Run("second send", func(t *testing.T) {
		leakcheck.Check(t)
		s, _ := NewOneshot[int]()
		s.Send(1)
		if err := s.Send(2); !errors.Is(err, ErrClosed) {
			t.Errorf("second Send = %v", err)
		}
	})
}

func TestOneshotRacingSenders(t *testing.T) {
	leakcheck.Check(t)
	for range 100 {
		s, r := NewOneshot[int]()
		var wins atomic.Int32 // read after wg.Wait, which orders the adds before it
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Go(func() {
				if s.Send(i) == nil {
					wins.Add(1)
				}
			})
		}
		got := BlockOn[Result[int]](r)
		wg.Wait()
		if wins.Load() != 1 || got.Err != nil || got.Value < 0 || got.Value > 3 {
			t.Fatalf("%d sends succeeded, received %v", wins.Load(), got)
		}
	}
}
