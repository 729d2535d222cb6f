package drivertest

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libasync/libasync/driver"
)

// Bench runs the drivers' benchmarks as sub-benchmarks of b, each on fresh
// drivers from open, so that drivers are compared by the same code in the
// same run:
//
//   - Wake: two goroutines, each looping in Wait on its own driver, wake
//     each other in turn; ns/op is one round trip, ns/wake half of it (from
//     Wake to the other Wait returning, including the Go scheduler's part).
//   - Events/ready=n/registered=m: m registered sockets, of which n become
//     ready in each round: the peer writes a byte to each, Waits collect the
//     n events (256 slots per Wait), each socket is read and rearmed. ns/op
//     is the whole round; ns/event and events/s count only the time spent
//     in Wait and Rearm.
func Bench(b *testing.B, open func() (driver.Driver, error)) {
	b.Run("Wake", func(b *testing.B) { benchWake(b, open) })
	for _, c := range []struct{ ready, registered int }{{1, 1}, {100, 100}, {1000, 1000}, {1, 1000}} {
		name := fmt.Sprintf("Events/ready=%d/registered=%d", c.ready, c.registered)
		b.Run(name, func(b *testing.B) { benchEvents(b, open, c.ready, c.registered) })
	}
}

func benchWake(b *testing.B, open func() (driver.Driver, error)) {
	ping := newHarness(b, open)
	pong := newHarness(b, open)
	// stop is stored before the last Wake, so the echo's Wait that this
	// Wake ends reads it as true (Go's atomics are sequentially consistent).
	var stop atomic.Bool
	done := make(chan error, 1)
	go func() {
		// The echo side: every return from Wait wakes the other driver.
		events := make([]driver.Event, 4)
		for {
			if _, err := pong.d.Wait(events, -1); err != nil || stop.Load() {
				done <- err
				return
			}
			if err := ping.d.Wake(); err != nil {
				done <- err
				return
			}
		}
	}()
	events := make([]driver.Event, 4)
	b.ResetTimer()
	for range b.N {
		if err := pong.d.Wake(); err != nil {
			b.Fatal(err)
		}
		if _, err := ping.d.Wait(events, -1); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(2*b.N), "ns/wake")
	stop.Store(true)
	if err := pong.d.Wake(); err != nil {
		b.Fatal(err)
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

func benchEvents(b *testing.B, open func() (driver.Driver, error), n, registered int) {
	h := newHarness(b, open)
	if ok, err := ensureDescriptors(2*registered + 64); err != nil || !ok {
		b.Skipf("not enough descriptors for %d sockets (%v)", registered, err)
	}
	as := make([]driver.FD, registered)
	bs := make([]driver.FD, registered)
	for i := range registered {
		as[i], bs[i] = h.pair()
		h.register(as[i], driver.Token(i), driver.Read)
	}
	// The ready sockets are spread over the registered ones.
	stride := registered / n
	as, bs = strided(as, stride, n), strided(bs, stride, n)
	events := make([]driver.Event, 256)
	one := []byte{1}
	var buf [16]byte
	var inDriver time.Duration
	b.ResetTimer()
	for range b.N {
		for _, fd := range bs {
			if _, err := writeSocket(fd, one); err != nil {
				b.Fatal(err)
			}
		}
		start := time.Now()
		for got := 0; got < n; {
			k, err := h.d.Wait(events, patience)
			if err != nil {
				b.Fatal(err)
			}
			if k == 0 {
				b.Fatalf("no event within %v; %d of %d reported", patience, got, n)
			}
			got += k
		}
		inDriver += time.Since(start)
		for _, fd := range as {
			if _, err := readSocket(fd, buf[:]); err != nil {
				b.Fatal(err)
			}
		}
		start = time.Now()
		for i, fd := range as {
			if err := h.d.Rearm(fd, driver.Token(i*stride), driver.Read); err != nil {
				b.Fatal(err)
			}
		}
		inDriver += time.Since(start)
	}
	b.StopTimer()
	perEvent := float64(inDriver.Nanoseconds()) / float64(b.N*n)
	b.ReportMetric(perEvent, "ns/event")
	b.ReportMetric(1e9/perEvent, "events/s")
}

// strided returns n elements of s, stride apart.
func strided(s []driver.FD, stride, n int) []driver.FD {
	out := make([]driver.FD, n)
	for i := range out {
		out[i] = s[i*stride]
	}
	return out
}
