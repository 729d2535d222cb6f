package executor

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/leakcheck"
)

// fakeDriver accepts every registration and reports what the test feeds
// the reactor itself; rearm, when set, runs in Rearm.
type fakeDriver struct{ rearm func() error }

func (*fakeDriver) Register(driver.FD, driver.Token, driver.Interest) error { return nil }
func (f *fakeDriver) Rearm(driver.FD, driver.Token, driver.Interest) error {
	if f.rearm != nil {
		return f.rearm()
	}
	return nil
}
func (*fakeDriver) Deregister(driver.FD) error                      { return nil }
func (*fakeDriver) Wait([]driver.Event, time.Duration) (int, error) { return 0, nil }
func (*fakeDriver) Wake() error                                     { return nil }
func (*fakeDriver) Close() error                                    { return nil }
func (*fakeDriver) Name() string                                    { return "fake" }

// reactorServices lends a bare Reactor through a Context.
type reactorServices struct{ r *Reactor }

func (reactorServices) spawnTask(*header) error { return future.ErrClosed }
func (reactorServices) goBlocking(func()) error { return future.ErrClosed }
func (reactorServices) timerWheel() *wheel      { return nil }
func (s reactorServices) ioReactor() *Reactor   { return s.r }

// fakeRegistration registers fd 3 with a reactor on f.
func fakeRegistration(t *testing.T, f *fakeDriver) (*Registration, *future.Context) {
	t.Helper()
	r := newReactor(f)
	reg, err := r.Register(3, driver.Read|driver.Write)
	if err != nil {
		t.Fatal(err)
	}
	return reg, future.NewContext(future.NoopWaker(), reactorServices{r})
}

func pollReady(t *testing.T, reg *Registration, cx *future.Context, dir driver.Interest) (Ready, bool) {
	t.Helper()
	r, ok := reg.PollReady(cx, dir).Value()
	if ok && r.Err != nil {
		t.Fatalf("PollReady: %v", r.Err)
	}
	return r.Value, ok
}

func TestClearReadyClearsErrorButNotClosed(t *testing.T) {
	leakcheck.Check(t)
	reg, cx := fakeRegistration(t, &fakeDriver{})
	// A datagram socket's ICMP error: reported once, then the socket
	// blocks again.
	reg.reactor.dispatch([]driver.Event{{Token: reg.token, Readiness: driver.Error}})
	rd, ok := pollReady(t, reg, cx, driver.Read)
	if !ok || rd.Readiness != driver.Error {
		t.Fatalf("PollReady after an error event = %+v %v, want the error bit", rd, ok)
	}
	if err := reg.ClearReady(rd); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []driver.Interest{driver.Read, driver.Write} {
		if rd, ok := pollReady(t, reg, cx, dir); ok {
			t.Fatalf("direction %v still ready (%+v) after ClearReady of the error", dir, rd)
		}
	}
	// End of stream: readable data, then the end, which must stay.
	reg.reactor.dispatch([]driver.Event{{Token: reg.token, Readiness: driver.Readable | driver.ReadClosed}})
	rd, _ = pollReady(t, reg, cx, driver.Read)
	if err := reg.ClearReady(rd); err != nil {
		t.Fatal(err)
	}
	if rd, ok := pollReady(t, reg, cx, driver.Read); !ok || rd.Readiness != driver.ReadClosed {
		t.Fatalf("PollReady after clearing = %+v %v, want read-closed kept", rd, ok)
	}
}

func TestClearReadyOvertakenByDeregister(t *testing.T) {
	leakcheck.Check(t)
	f := &fakeDriver{}
	reg, cx := fakeRegistration(t, f)
	// Another goroutine's Deregister lands between ClearReady's check of
	// the registration and its rearm, which the driver then refuses.
	f.rearm = func() error {
		if err := reg.Deregister(); err != nil {
			t.Errorf("Deregister: %v", err)
		}
		return driver.ErrNotRegistered
	}
	reg.reactor.dispatch([]driver.Event{{Token: reg.token, Readiness: driver.Readable}})
	rd, ok := pollReady(t, reg, cx, driver.Read)
	if !ok {
		t.Fatal("not ready after a readable event")
	}
	if err := reg.ClearReady(rd); !errors.Is(err, future.ErrClosed) {
		t.Fatalf("ClearReady overtaken by Deregister = %v, want future.ErrClosed", err)
	}
}

// Tokens reach their registrations across the table's chunks; a token whose
// slot was released, or reused by a later registration, reaches none.
func TestReactorTable(t *testing.T) {
	leakcheck.Check(t)
	r := newReactor(&fakeDriver{})
	const n = 3*(1<<chunkBits) + 5
	regs := make([]*Registration, n)
	for i := range regs {
		reg, err := r.Register(driver.FD(i), driver.Read)
		if err != nil {
			t.Fatal(err)
		}
		regs[i] = reg
	}
	events := make([]driver.Event, n)
	for i, reg := range regs {
		events[i] = driver.Event{Token: reg.token, Readiness: driver.Readable}
	}
	r.dispatch(events)
	for i, reg := range regs {
		if reg.state.Load()&uint32(driver.Readable) == 0 {
			t.Fatalf("registration %d (token %#x) missed its event", i, reg.token)
		}
	}
	fresh := make([]*Registration, 0, n/2)
	for i := 0; i < n; i += 2 {
		if err := regs[i].Deregister(); err != nil {
			t.Fatal(err)
		}
		reg, err := r.Register(driver.FD(n+i), driver.Read)
		if err != nil {
			t.Fatal(err)
		}
		fresh = append(fresh, reg)
	}
	r.dispatch(events) // the stale tokens among them name released slots
	for _, reg := range fresh {
		if s := reg.state.Load(); s&readinessMask != 0 {
			t.Fatalf("a stale token reached the registration with token %#x: state %#x", reg.token, s)
		}
	}
	r.close()
	for _, reg := range append(fresh, regs[1]) {
		if reg.state.Load()&closedFlag == 0 {
			t.Fatalf("registration with token %#x not closed with the reactor", reg.token)
		}
	}
	if err := regs[1].Deregister(); !errors.Is(err, future.ErrClosed) {
		t.Fatalf("Deregister after close = %v, want ErrClosed", err)
	}
}

// dispatch reads the table without the reactor's lock while other
// goroutines register and deregister, growing the table: the race detector
// checks the reads, and stale tokens never reach a registration.
func TestReactorDispatchRacesRegister(t *testing.T) {
	leakcheck.Check(t)
	r := newReactor(&fakeDriver{})
	var stale []driver.Event
	for i := range 4 {
		reg, err := r.Register(driver.FD(i), driver.Read)
		if err != nil {
			t.Fatal(err)
		}
		stale = append(stale, driver.Event{Token: reg.token, Readiness: driver.Readable})
		if err := reg.Deregister(); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Go(func() {
			for i := range 2000 {
				reg, err := r.Register(driver.FD(g*10000+i), driver.Read)
				if err != nil {
					t.Error(err)
					return
				}
				if i%3 != 0 {
					if err := reg.Deregister(); err != nil {
						t.Error(err)
						return
					}
				} else if s := reg.state.Load(); s&readinessMask != 0 {
					t.Errorf("a stale token reached the registration with token %#x", reg.token)
					return
				}
			}
		})
	}
	go func() {
		defer close(done)
		for range 2000 {
			r.dispatch(stale)
		}
	}()
	wg.Wait()
	<-done
	r.close()
}

// BenchmarkReactorDispatch measures dispatch's cost per event, from token to
// registration to delivered readiness, in batches of 64 events over 1,000
// registrations (no waiter to wake): the reactor's share of each event a
// Wait returns.
func BenchmarkReactorDispatch(b *testing.B) {
	r := newReactor(&fakeDriver{})
	regs := make([]*Registration, 1000)
	for i := range regs {
		reg, err := r.Register(driver.FD(i), driver.Read)
		if err != nil {
			b.Fatal(err)
		}
		regs[i] = reg
	}
	events := make([]driver.Event, 64)
	for i := range events {
		events[i] = driver.Event{Token: regs[i*15].token, Readiness: driver.Readable}
	}
	b.ResetTimer()
	for range b.N {
		r.dispatch(events)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(events)), "ns/event")
	b.StopTimer()
	r.close()
}
