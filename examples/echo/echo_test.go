package main

import (
	"testing"
	"time"

	"github.com/libasync/libasync/executor"
	"github.com/libasync/libasync/internal/leakcheck"
)

// TestServerAndClient runs the echo server and a short load against it on
// one executor, over each Linux driver, and checks that requests were
// answered and measured.
func TestServerAndClient(t *testing.T) {
	for _, drv := range []string{"", "poll"} {
		t.Run("driver="+drv, func(t *testing.T) {
			leakcheck.Check(t)
			ex, err := executor.NewLocal(executor.WithDriver(drv))
			if err != nil {
				t.Skipf("driver %q: %v", drv, err)
			}
			defer ex.Close()
			l, err := listen(ex, "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			h, err := executor.Spawn(ex, &acceptLoop{l: l})
			if err != nil {
				t.Fatal(err)
			}
			r, err := runClient(ex, clientConfig{addr: l.Addr().String(), conns: 20, size: 100, duration: 200 * time.Millisecond, warmup: 20 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if r.requests == 0 || r.p50 <= 0 || r.p99 < r.p50 {
				t.Fatalf("report %+v", r)
			}
			l.Close()
			if err, jerr := executor.BlockOn(ex, h); jerr != nil || err.Err != nil || err.Value != nil {
				t.Fatalf("accept loop after Close: %v, %v, %v", err.Value, err.Err, jerr)
			}
		})
	}
}
