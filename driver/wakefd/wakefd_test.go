package wakefd

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/internal/leakcheck"
	"github.com/libasync/libasync/internal/readable"
)

// counting counts the writes of the descriptor it wraps.
type counting struct {
	descriptor
	writes atomic.Int32
}

func (c *counting) signal() error {
	c.writes.Add(1)
	return c.descriptor.signal()
}

// Every kind of descriptor of this system (kinds, per system) turns
// readable on Wake and back on Drain, writes once for Wakes that coalesce,
// and refuses Wake and Close after Close.
func TestFD(t *testing.T) {
	leakcheck.Check(t)
	for name, open := range kinds {
		t.Run(name, func(t *testing.T) {
			leakcheck.Check(t)
			d, err := open()
			if err != nil {
				t.Fatal(err)
			}
			c := &counting{descriptor: d}
			w := &FD{sys: c}
			if readable.Within(t, w.Fd(), 0) {
				t.Fatal("readable before any Wake")
			}
			for round := int32(1); round <= 3; round++ {
				var wg sync.WaitGroup
				for range 4 {
					wg.Go(func() {
						for range 250 {
							if err := w.Wake(); err != nil {
								t.Errorf("Wake: %v", err)
								return
							}
						}
					})
				}
				wg.Wait()
				if got := c.writes.Load(); got != round {
					t.Fatalf("round %d: %d writes in all, want %d: the Wakes did not coalesce", round, got, round)
				}
				// On Windows the byte crosses a loopback connection.
				if !readable.Within(t, w.Fd(), 5*time.Second) {
					t.Fatalf("round %d: not readable after Wake", round)
				}
				w.Drain()
				if readable.Within(t, w.Fd(), 0) {
					t.Fatalf("round %d: readable after Drain", round)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if err := w.Wake(); !errors.Is(err, driver.ErrClosed) {
				t.Errorf("Wake after Close: %v, want ErrClosed", err)
			}
			if err := w.Close(); !errors.Is(err, driver.ErrClosed) {
				t.Errorf("second Close: %v, want ErrClosed", err)
			}
		})
	}
}

// Wakes racing Close either write before the descriptor is closed or
// return ErrClosed. The owner drains meanwhile, so that some of them write.
func TestWakeRacesClose(t *testing.T) {
	leakcheck.Check(t)
	for range 20 {
		w, err := New()
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for {
					err := w.Wake()
					if errors.Is(err, driver.ErrClosed) {
						return
					}
					if err != nil {
						t.Errorf("Wake racing Close: %v", err)
						return
					}
				}
			})
		}
		for range 10 {
			w.Drain()
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
	}
}
