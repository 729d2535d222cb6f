//go:build unix

package executor

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/leakcheck"
	"golang.org/x/sys/unix"
)

// pipe returns a non-blocking pipe, closed when the test ends.
func pipe(t *testing.T) (r, w int) {
	t.Helper()
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		t.Fatalf("pipe: %v", err)
	}
	for _, fd := range p {
		if err := unix.SetNonblock(fd, true); err != nil {
			t.Fatalf("set non-blocking: %v", err)
		}
	}
	t.Cleanup(func() {
		unix.Close(p[0])
		unix.Close(p[1])
	})
	return p[0], p[1]
}

// register registers fd with ex's reactor.
func register(t *testing.T, ex Executor, fd int, interest driver.Interest) *Registration {
	t.Helper()
	reg, err := reactorOf(t, ex).Register(fd, interest)
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	return reg
}

// reactorOf returns ex's Reactor, taken from inside a poll.
func reactorOf(t *testing.T, ex Executor) *Reactor {
	t.Helper()
	rx, err := BlockOn(ex, fnFuture[*Reactor](func(cx *future.Context) future.Poll[*Reactor] {
		rx, err := ReactorOf(cx)
		if err != nil {
			t.Errorf("ReactorOf: %v", err)
		}
		return future.Ready(rx)
	}))
	if err != nil || rx == nil {
		t.Fatalf("reactorOf: %v", err)
	}
	return rx
}

// readWaiter waits for read readiness of reg and yields its error;
// onPending runs each time it goes to sleep.
func readWaiter(reg *Registration, onPending func(cx *future.Context)) future.Future[error] {
	return fnFuture[error](func(cx *future.Context) future.Poll[error] {
		r, ok := reg.PollReady(cx, driver.Read).Value()
		if !ok {
			onPending(cx)
			return future.Pending[error]()
		}
		return future.Ready(r.Err)
	})
}

// pipeReader reads want bytes through the reactor protocol, telling pending
// each time it goes to sleep on an empty pipe.
type pipeReader struct {
	reg     *Registration
	fd      int
	want    int
	got     []byte
	pending chan struct{}
}

func (p *pipeReader) Poll(cx *future.Context) future.Poll[future.Result[[]byte]] {
	for {
		r, ok := p.reg.PollReady(cx, driver.Read).Value()
		if !ok {
			select {
			case p.pending <- struct{}{}:
			default:
			}
			return future.Pending[future.Result[[]byte]]()
		}
		if r.Err != nil {
			return future.Ready(future.Fail[[]byte](r.Err))
		}
		var buf [64]byte
		n, err := unix.Read(p.fd, buf[:])
		switch {
		case n > 0:
			p.got = append(p.got, buf[:n]...)
			if len(p.got) >= p.want {
				return future.Ready(future.Ok(p.got))
			}
		case err == unix.EAGAIN:
			if err := p.reg.ClearReady(r.Value); err != nil {
				return future.Ready(future.Fail[[]byte](err))
			}
		case err != nil:
			return future.Ready(future.Fail[[]byte](err))
		default: // EOF
			return future.Ready(future.Ok(p.got))
		}
	}
}

func TestReactorPipeReadinessAndRearm(t *testing.T) {
	leakcheck.Check(t)
	forEachExecutor(t, func(t *testing.T, ex Executor) {
		rfd, wfd := pipe(t)
		reg := register(t, ex, rfd, driver.Read)
		defer reg.Deregister()
		const msgs = 5
		rd := &pipeReader{reg: reg, fd: rfd, want: msgs, pending: make(chan struct{}, 1)}
		h := spawn[future.Result[[]byte]](t, ex, rd)
		go func() {
			for i := range msgs {
				<-rd.pending // the reader drained the pipe and sleeps
				unix.Write(wfd, []byte{byte('a' + i)})
			}
		}()
		before := ex.Stats()
		r := await(t, ex, h)
		if r.Err != nil || r.Value.Err != nil || string(r.Value.Value) != "abcde" {
			t.Fatalf("read %+v", r)
		}
		st := ex.Stats()
		if polls := st.TasksPolled - before.TasksPolled; polls > 3*msgs {
			t.Fatalf("%d polls for %d messages: the reader spins", polls, msgs)
		}
		if st.DriverWaits == before.DriverWaits {
			t.Fatalf("no driver wait counted: %+v", st)
		}
	})
}

func TestReactorEOFAndWritable(t *testing.T) {
	leakcheck.Check(t)
	forEachExecutor(t, func(t *testing.T, ex Executor) {
		rfd, wfd := pipe(t)
		wreg := register(t, ex, wfd, driver.Write)
		r, err := BlockOn[future.Result[Ready]](ex, fnFuture[future.Result[Ready]](func(cx *future.Context) future.Poll[future.Result[Ready]] {
			return wreg.PollReady(cx, driver.Write)
		}))
		if err != nil || r.Err != nil || r.Value.Readiness&driver.Writable == 0 {
			t.Fatalf("write readiness = %+v, %v", r, err)
		}
		if wreg.FD() != wfd {
			t.Fatalf("FD = %d, want %d", wreg.FD(), wfd)
		}
		if p, _ := BlockOn(ex, fnFuture[future.Result[Ready]](func(cx *future.Context) future.Poll[future.Result[Ready]] {
			return wreg.PollReady(cx, driver.Read)
		})); !errors.Is(p.Err, ErrInvalid) {
			t.Fatalf("polling a direction outside the interest = %v", p.Err)
		}
		if err := wreg.Deregister(); err != nil {
			t.Fatal(err)
		}
		rreg := register(t, ex, rfd, driver.Read)
		defer rreg.Deregister()
		unix.Write(wfd, []byte("xy"))
		rd := &pipeReader{reg: rreg, fd: rfd, want: 100, pending: make(chan struct{}, 1)}
		h := spawn[future.Result[[]byte]](t, ex, rd)
		go func() {
			<-rd.pending
			unix.Close(wfd) // EOF after the two bytes
		}()
		res := await(t, ex, h)
		if res.Err != nil || res.Value.Err != nil || string(res.Value.Value) != "xy" {
			t.Fatalf("read to EOF = %+v", res)
		}
	})
}

func TestReactorSecondWaiterIsBusy(t *testing.T) {
	leakcheck.Check(t)
	forEachExecutor(t, func(t *testing.T, ex Executor) {
		rfd, wfd := pipe(t)
		reg := register(t, ex, rfd, driver.Read)
		first := newGate()
		var firstWaker future.Waker
		a := spawn(t, ex, readWaiter(reg, func(cx *future.Context) {
			firstWaker = cx.Waker()
			first.Open()
		}))
		BlockOn[struct{}](ex, first)
		b := spawn(t, ex, fnFuture[error](func(cx *future.Context) future.Poll[error] {
			r, _ := reg.PollReady(cx, driver.Read).Value()
			return future.Ready(r.Err)
		}))
		if r := await(t, ex, b); !errors.Is(r.Value, ErrBusy) {
			t.Fatalf("second waiter = %v, want ErrBusy", r.Value)
		}
		// Once the first waiter releases the direction, another may wait.
		reg.Release(driver.Read, firstWaker)
		a.Abort()
		await(t, ex, a)
		unix.Write(wfd, []byte("z"))
		c := spawn(t, ex, readWaiter(reg, func(*future.Context) {}))
		if r := await(t, ex, c); r.Value != nil {
			t.Fatalf("waiter after release = %v", r.Value)
		}
		if err := reg.Deregister(); err != nil {
			t.Fatal(err)
		}
		if err := reg.Deregister(); !errors.Is(err, future.ErrClosed) {
			t.Fatalf("second Deregister = %v, want ErrClosed", err)
		}
	})
}

func TestReactorDeregisterWakesWaiter(t *testing.T) {
	leakcheck.Check(t)
	forEachExecutor(t, func(t *testing.T, ex Executor) {
		rfd, _ := pipe(t)
		reg := register(t, ex, rfd, driver.Read)
		waiting := newGate()
		h := spawn(t, ex, readWaiter(reg, func(*future.Context) { waiting.Open() }))
		BlockOn[struct{}](ex, waiting)
		if err := reg.Deregister(); err != nil {
			t.Fatal(err)
		}
		if r := await(t, ex, h); !errors.Is(r.Value, future.ErrClosed) {
			t.Fatalf("waiter after Deregister = %v, want ErrClosed", r.Value)
		}
	})
}

func TestReactorWrongRuntime(t *testing.T) {
	leakcheck.Check(t)
	forEachExecutor(t, func(t *testing.T, ex Executor) {
		other, err := NewLocal(WithDriver(ex.(interface{ DriverName() string }).DriverName()))
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		rfd, _ := pipe(t)
		reg := register(t, ex, rfd, driver.Read)
		defer reg.Deregister()
		r, err := BlockOn(other, fnFuture[future.Result[Ready]](func(cx *future.Context) future.Poll[future.Result[Ready]] {
			return reg.PollReady(cx, driver.Read)
		}))
		if err != nil || !errors.Is(r.Err, ErrWrongRuntime) {
			t.Fatalf("poll from another runtime = %+v %v, want ErrWrongRuntime", r, err)
		}
		rx := reactorOf(t, ex)
		if _, err := ReactorOf(future.NewContext(future.NoopWaker(), nil)); !errors.Is(err, future.ErrNoRuntime) {
			t.Fatalf("ReactorOf outside = %v", err)
		}
		if _, err := rx.Register(rfd, 0); !errors.Is(err, ErrInvalid) {
			t.Fatalf("Register with no interest = %v", err)
		}
		if _, err := rx.Register(-1, driver.Read); err == nil {
			t.Fatalf("Register(-1) succeeded")
		}
	})
}

// TestReactorDropsEventsOfDeregisteredFD delivers an event taken from the
// driver before its fd was deregistered and its slot reused: the new
// registration must not see it.
func TestReactorDropsEventsOfDeregisteredFD(t *testing.T) {
	leakcheck.Check(t)
	forEachDriver(t, func(t *testing.T, name string) {
		drv, err := driver.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		defer drv.Close()
		r := newReactor(drv)
		rfd, wfd := pipe(t)
		old, err := r.Register(rfd, driver.Read)
		if err != nil {
			t.Fatal(err)
		}
		unix.Write(wfd, []byte("x"))
		events := make([]driver.Event, 8)
		n, err := drv.Wait(events, 5*time.Second)
		if err != nil || n != 1 || events[0].Token != old.token {
			t.Fatalf("Wait = %d %v %+v", n, err, events[:n])
		}
		if err := old.Deregister(); err != nil {
			t.Fatal(err)
		}
		rfd2, _ := pipe(t)
		fresh, err := r.Register(rfd2, driver.Read)
		if err != nil {
			t.Fatal(err)
		}
		defer fresh.Deregister()
		if uint32(fresh.token) != uint32(old.token) || fresh.token == old.token {
			t.Fatalf("slot not reused with a new generation: %x vs %x", fresh.token, old.token)
		}
		r.dispatch(events[:n])
		if s := fresh.state.Load(); s&readinessMask != 0 {
			t.Fatalf("the stale event reached the new registration: state %x", s)
		}
		if s := old.state.Load(); s&closedFlag == 0 {
			t.Fatalf("the deregistered registration is not closed")
		}
	})
}

func TestReactorClosedWithExecutor(t *testing.T) {
	leakcheck.Check(t)
	forEachExecutor(t, func(t *testing.T, ex Executor) {
		rfd, _ := pipe(t)
		reg := register(t, ex, rfd, driver.Read)
		rx := reactorOf(t, ex)
		if err := ex.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := rx.Register(rfd, driver.Read); !errors.Is(err, future.ErrClosed) {
			t.Fatalf("Register after Close = %v, want ErrClosed", err)
		}
		if err := reg.Deregister(); !errors.Is(err, future.ErrClosed) {
			t.Fatalf("Deregister after Close = %v, want ErrClosed", err)
		}
		if err := reg.ClearReady(Ready{}); !errors.Is(err, future.ErrClosed) {
			t.Fatalf("ClearReady after Close = %v, want ErrClosed", err)
		}
	})
}

// TestClearReadyKeepsNewerReadiness checks the tick rule: readiness that was
// delivered after the caller observed it must survive the caller's
// ClearReady, or a wake-up would be lost.
func TestClearReadyKeepsNewerReadiness(t *testing.T) {
	leakcheck.Check(t)
	forEachExecutor(t, func(t *testing.T, ex Executor) {
		rfd, _ := pipe(t)
		reg := register(t, ex, rfd, driver.Read)
		defer reg.Deregister()
		rx := reg.reactor
		poll := func() future.Result[Ready] {
			r, err := BlockOn(ex, fnFuture[future.Result[Ready]](func(cx *future.Context) future.Poll[future.Result[Ready]] {
				p := reg.PollReady(cx, driver.Read)
				if p.IsPending() {
					reg.Release(driver.Read, cx.Waker())
					return future.Ready(future.Fail[Ready](errPending))
				}
				return p
			}))
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		rx.dispatch([]driver.Event{{Token: reg.token, Readiness: driver.Readable}})
		first := poll()
		if first.Err != nil || first.Value.Readiness != driver.Readable {
			t.Fatalf("after an event: %+v", first)
		}
		rx.dispatch([]driver.Event{{Token: reg.token, Readiness: driver.Readable}})
		if err := reg.ClearReady(first.Value); err != nil {
			t.Fatal(err)
		}
		if r := poll(); r.Err != nil {
			t.Fatalf("readiness delivered after the observation was cleared: %v", r.Err)
		}
		second := poll()
		if err := reg.ClearReady(second.Value); err != nil {
			t.Fatal(err)
		}
		if r := poll(); r.Err != errPending {
			t.Fatalf("readiness not cleared with the current tick: %+v", r)
		}
	})
}

func TestBudgetLetsIOThrough(t *testing.T) {
	leakcheck.Check(t)
	const spinners = 4
	budgetExecutors(t, func(t *testing.T, ex Executor) {
		for _, n := range []int{0, spinners} {
			rfd, wfd := pipe(t)
			reg := register(t, ex, rfd, driver.Read)
			pending := make(chan struct{}, 1)
			var written atomic.Bool
			go func() {
				<-pending
				time.Sleep(time.Millisecond)
				if _, err := unix.Write(wfd, []byte("x")); err != nil {
					t.Errorf("write: %v", err)
				}
				written.Store(true)
			}()
			read := fnFuture[int](func(cx *future.Context) future.Poll[int] {
				r := (&pipeReader{reg: reg, fd: rfd, want: 1, pending: pending}).Poll(cx)
				if v, ok := r.Value(); ok {
					if v.Err != nil {
						t.Errorf("read: %v", v.Err)
					}
					return future.Ready(0)
				}
				return future.Pending[int]()
			})
			if gap := budgetGap(t, ex, n, read, written.Load); gap > budgetBound(n) {
				t.Fatalf("%T: readable data waited %d polls of always-ready work, budget %d", ex, gap, budgetBound(n))
			}
			if err := reg.Deregister(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestDispatchNeedsNoDriverWake checks that waking a task from the events of
// the executor's own driver wait costs no Wake of that driver.
func TestDispatchNeedsNoDriverWake(t *testing.T) {
	leakcheck.Check(t)
	forEachExecutor(t, func(t *testing.T, ex Executor) {
		rfd, wfd := pipe(t)
		reg := register(t, ex, rfd, driver.Read)
		pending := make(chan struct{}, 1)
		go func() {
			<-pending
			time.Sleep(10 * time.Millisecond) // the executor waits in its driver
			if _, err := unix.Write(wfd, []byte("x")); err != nil {
				t.Errorf("write: %v", err)
			}
		}()
		before := ex.Stats()
		r, err := BlockOn(ex, &pipeReader{reg: reg, fd: rfd, want: 1, pending: pending})
		if err != nil || r.Err != nil {
			t.Fatalf("read: %v %v", err, r.Err)
		}
		st := ex.Stats()
		waited := st.DriverWaits > before.DriverWaits
		if _, ok := ex.(*Runtime); ok {
			// Its idle worker may have entered the driver before.
			waited = st.DriverWaits > 0
		}
		if st.DriverWakes != before.DriverWakes || !waited {
			t.Fatalf("stats %+v -> %+v: want a driver wait and no driver wake", before, st)
		}
	})
}
