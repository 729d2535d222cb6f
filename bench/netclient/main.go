// Command netclient is a second load client for the echo benchmark: the
// same protocol and report as examples/echo -mode client, written the way Go
// load generators usually are, a goroutine per connection on package net.
// It costs more per request than the libasync client, so the server under
// test waits for work more often: the figures then include the cost of
// going to sleep and waking up, which the faster client hides.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libasync/libasync/bench/internal/process"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:7000", "server address")
	conns := flag.Int("connections", 50, "concurrent connections")
	size := flag.Int("size", 64, "message size in bytes")
	duration := flag.Duration("duration", 5*time.Second, "measured time")
	warmup := flag.Duration("warmup", 500*time.Millisecond, "time run before measuring")
	flag.String("mode", "client", "only client")
	flag.Parse()
	process.RaiseFileLimit()
	var (
		measuring, stop atomic.Bool
		wg, ready       sync.WaitGroup
		t0              time.Time // set before measuring, so read safely once it is seen
		mu              sync.Mutex
		all             []time.Duration
		fewest          = -1 // the fairness figures, as examples/echo reports them
		stalled         int
		failed          atomic.Value
	)
	ready.Add(*conns)
	for range *conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", *addr)
			ready.Done()
			if err != nil {
				failed.Store(err)
				return
			}
			defer c.Close()
			msg, buf := make([]byte, *size), make([]byte, *size)
			var lat []time.Duration
			perSecond := make([]int, *duration/time.Second)
			for !stop.Load() {
				t1 := time.Now()
				if _, err := c.Write(msg); err != nil {
					failed.Store(err)
					return
				}
				if _, err := io.ReadFull(c, buf); err != nil {
					failed.Store(err)
					return
				}
				if measuring.Load() {
					now := time.Now()
					lat = append(lat, now.Sub(t1))
					if sec := int(now.Sub(t0) / time.Second); sec < len(perSecond) {
						perSecond[sec]++
					}
				}
			}
			mu.Lock()
			all = append(all, lat...)
			if fewest < 0 || len(lat) < fewest {
				fewest = len(lat)
			}
			if slices.Contains(perSecond, 0) {
				stalled++
			}
			mu.Unlock()
		}()
	}
	ready.Wait()
	time.Sleep(*warmup)
	fmt.Println("START")
	t0 = time.Now()
	measuring.Store(true)
	time.Sleep(*duration)
	measuring.Store(false)
	elapsed := time.Since(t0)
	stop.Store(true)
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		fmt.Fprintln(os.Stderr, "netclient:", err)
		os.Exit(1)
	}
	slices.Sort(all)
	q := func(f float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[int(f*float64(len(all)-1))]
	}
	fmt.Printf("END requests=%d seconds=%.3f req/s=%.0f p50=%v p99=%v conn_min=%d conn_stalled=%d\n",
		len(all), elapsed.Seconds(), float64(len(all))/elapsed.Seconds(), q(0.5), q(0.99), fewest, stalled)
}
