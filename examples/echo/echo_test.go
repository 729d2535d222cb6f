package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/libasync/libasync/executor"
	"github.com/libasync/libasync/internal/leakcheck"
)

// TestServerAndClient runs the echo server and a short load against it,
// over each Linux driver: both on one Local, and the server on a two-worker
// Runtime with the client on a Local. It checks that requests were answered
// and measured, and that the server stops when its listener closes.
func TestServerAndClient(t *testing.T) {
	for _, drv := range []string{"", "poll"} {
		for _, workers := range []int{1, 2} {
			t.Run(fmt.Sprintf("driver=%s/workers=%d", drv, workers), func(t *testing.T) {
				leakcheck.Check(t)
				ex, err := executor.NewLocal(executor.WithDriver(drv))
				if err != nil {
					t.Skipf("driver %q: %v", drv, err)
				}
				defer ex.Close()
				srv := executor.Executor(ex)
				if workers > 1 {
					rt, err := executor.NewRuntime(executor.WithDriver(drv), executor.WithWorkers(workers))
					if err != nil {
						t.Fatal(err)
					}
					defer rt.Close()
					srv = rt
				}
				l, err := listen(srv, "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				h, err := executor.Spawn(srv, &acceptLoop{l: l})
				if err != nil {
					t.Fatal(err)
				}
				r, err := runClient(ex, clientConfig{addr: l.Addr().String(), conns: 20, size: 100, duration: 200 * time.Millisecond, warmup: 20 * time.Millisecond})
				if err != nil {
					t.Fatal(err)
				}
				if r.requests == 0 || r.p50 <= 0 || r.p99 < r.p50 || r.fewest*20 > r.requests || r.stalled != 0 {
					t.Fatalf("report %+v", r)
				}
				l.Close()
				if err, jerr := executor.BlockOn(srv, h); jerr != nil || err.Err != nil || err.Value != nil {
					t.Fatalf("accept loop after Close: %v, %v, %v", err.Value, err.Err, jerr)
				}
			})
		}
	}
}

// TestFairness checks the report's fairness figures: the fewest round trips
// of any connection, and the connections with an empty whole second.
func TestFairness(t *testing.T) {
	conns := []*clientConn{
		{measured: 7, perSecond: []int{3, 4}},
		{measured: 2, perSecond: []int{2, 0}},
		{measured: 5, perSecond: []int{0, 5}},
	}
	if fewest, stalled := fairness(conns); fewest != 2 || stalled != 2 {
		t.Fatalf("fairness = %d, %d; want 2, 2", fewest, stalled)
	}
}
