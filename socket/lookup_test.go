package socket

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/executor"
	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/leakcheck"
)

// silentResolver makes the standard library's resolver, for the test's
// duration, send its queries to a server that never answers: a query ends
// when its context is cancelled (counted in cancelled) or when the
// resolver's own timeout passes (seconds later, not counted). It returns
// how many queries are in flight.
func silentResolver(t *testing.T) (inFlight func() int, cancelled *atomic.Int32) {
	t.Helper()
	queries := make(chan struct{}, 64)
	released := make(chan struct{})
	cancelled = new(atomic.Int32)
	old := net.DefaultResolver
	net.DefaultResolver = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		queries <- struct{}{}
		defer func() { <-queries }()
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.Canceled) {
				cancelled.Add(1)
			}
			return nil, ctx.Err()
		case <-released:
			return nil, errors.New("the test released the lookup")
		}
	}}
	t.Cleanup(func() {
		close(released)
		net.DefaultResolver = old
	})
	return func() int { return len(queries) }, cancelled
}

// waitFor polls cond every millisecond for up to 30 s (a hang guard, not
// a timing).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

// An executor's Close never waits for a name lookup that does not answer:
// dropping the connect (or the listen) at shutdown cancels it.
func TestCloseDoesNotWaitForALookup(t *testing.T) {
	inFlight, cancelled := silentResolver(t)
	for _, d := range driver.Names() {
		for _, mk := range []struct {
			name string
			f    func() future.Future[future.Result[struct{}]]
		}{
			{"connect", func() future.Future[future.Result[struct{}]] {
				return future.Map(Connect("never.answers.invalid:80"), func(r future.Result[*Stream]) future.Result[struct{}] {
					return future.Result[struct{}]{Err: r.Err}
				})
			}},
			{"listen", func() future.Future[future.Result[struct{}]] {
				return future.Map(Listen("never.answers.invalid:0"), func(r future.Result[*Listener]) future.Result[struct{}] {
					return future.Result[struct{}]{Err: r.Err}
				})
			}},
		} {
			t.Run(d+"/"+mk.name, func(t *testing.T) {
				leakcheck.Check(t)
				rt, err := executor.NewRuntime(executor.WithDriver(d), executor.WithWorkers(2))
				if err != nil {
					t.Fatal(err)
				}
				h, err := executor.Spawn(rt, mk.f())
				if err != nil {
					t.Fatal(err)
				}
				waitFor(t, "the lookup to start", func() bool { return inFlight() > 0 })
				closed := make(chan error, 1)
				go func() { closed <- rt.Close() }()
				select {
				case err := <-closed:
					if err != nil {
						t.Fatalf("Close: %v", err)
					}
				case <-time.After(30 * time.Second):
					t.Fatal("Close waited 30 s for a lookup that never answers")
				}
				if r := future.BlockOn(h); !errors.Is(r.Err, future.ErrClosed) {
					t.Fatalf("the connect's task: %v, want ErrClosed", r.Err)
				}
				waitFor(t, "the lookup to end", func() bool { return inFlight() == 0 })
				if cancelled.Swap(0) == 0 {
					t.Fatal("the lookup ran out its own timeout: nothing cancelled it")
				}
			})
		}
	}
}

// Dropping a connect whose lookup is in flight cancels the lookup.
func TestDroppedConnectCancelsItsLookup(t *testing.T) {
	inFlight, cancelled := silentResolver(t)
	forEachDriver(t, func(t *testing.T, ex *executor.Local) {
		run(t, ex, func(a *future.Awaiter) {
			c := Connect("never.answers.invalid:80")
			slept := future.Await(a, future.Race(
				future.Map(c, func(future.Result[*Stream]) bool { return false }),
				future.Map(executor.Sleep(20*time.Millisecond), func(future.Result[struct{}]) bool { return true }),
			))
			if !slept {
				t.Fatal("the connect finished before the sleep")
			}
		})
		waitFor(t, "the lookup to end", func() bool { return inFlight() == 0 })
		if cancelled.Swap(0) == 0 {
			t.Fatal("the lookup ran out its own timeout: dropping the connect did not cancel it")
		}
	})
}
