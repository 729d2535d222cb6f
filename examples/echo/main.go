// Command echo is a TCP echo server on libasync, and the load client that
// measures it (and any other echo server).
//
//	echo -addr 127.0.0.1:7000                      serve
//	echo -mode client -addr 127.0.0.1:7000 -connections 50 -size 64 -duration 5s
//	echo -mode idle -addr 127.0.0.1:7000 -connections 10000
//	echo -mode demo                                a server and a client in one process, 2 s
//
// The server runs every connection as a small state machine task (not an
// Async coroutine), holding a buffer only while bytes are in flight: an idle
// connection costs its task, its socket and its reactor registration, a few
// hundred bytes.
//
// The client opens the connections, lets them run for -warmup, prints
// "START", measures for -duration, and prints "END" with requests per
// second, the p50/p99 round-trip latency and two fairness figures: the
// round trips of the connection that completed the fewest (conn_min) and
// the number of connections that had a whole second of the window without
// one (conn_stalled). Each connection sends one message, waits for all of
// it to come back, and sends the next (with -rate, not before its turn in
// a steady schedule). Mode idle
// opens the connections, echoes one message on each, prints "READY" and
// holds them until killed, for measuring idle memory per connection.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/libasync/libasync/executor"
)

func main() {
	mode := flag.String("mode", "server", "server, client, idle or demo")
	addr := flag.String("addr", "127.0.0.1:7000", "address to listen on or connect to")
	workers := flag.Int("workers", 1, "server executor workers (more than 1: the work-stealing Runtime)")
	useRuntime := flag.Bool("runtime", false, "serve on the work-stealing Runtime even with one worker")
	drv := flag.String("driver", "", "readiness driver (epoll, poll, kqueue, iocp; empty: the default)")
	conns := flag.Int("connections", 50, "client: concurrent connections")
	size := flag.Int("size", 64, "client: message size in bytes")
	duration := flag.Duration("duration", 5*time.Second, "client: measured time")
	warmup := flag.Duration("warmup", 500*time.Millisecond, "client: time run before measuring")
	rate := flag.Int("rate", 0, "client: requests per second over all connections, each on a fixed schedule (0: each sends as soon as its echo is back)")
	cpuprofile := flag.String("cpuprofile", "", "server: write a CPU profile to this file, ended by SIGINT or SIGTERM")
	flag.Parse()

	raiseFileLimit()
	// The load client (modes client and idle) always runs on one Local: its
	// connections share unsynchronised counters. The server runs on the
	// work-stealing Runtime when given more than one worker.
	ex, err := executor.NewLocal(executor.WithDriver(*drv))
	if err != nil {
		fail(err)
	}
	defer ex.Close()
	server := serverExecutor(ex)
	if (*workers > 1 || *useRuntime) && (*mode == "server" || *mode == "demo") {
		rt, err := executor.NewRuntime(executor.WithDriver(*drv), executor.WithWorkers(*workers))
		if err != nil {
			fail(err)
		}
		defer rt.Close()
		server = rt
	}
	switch *mode {
	case "server":
		if *cpuprofile != "" {
			if err := profileUntilSignal(*cpuprofile); err != nil {
				fail(err)
			}
		}
		err = serve(server, *addr)
	case "client":
		var r report
		r, err = runClient(ex, clientConfig{addr: *addr, conns: *conns, size: *size, duration: *duration, warmup: *warmup, rate: *rate, announce: true})
		if err == nil {
			fmt.Println(r)
		}
	case "idle":
		err = holdIdle(ex, *addr, *conns)
	case "demo":
		err = demo(server, ex)
	default:
		err = fmt.Errorf("unknown mode %q", *mode)
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "echo:", err)
	os.Exit(1)
}

// profileUntilSignal starts a CPU profile that is written out, and the
// process ended, at SIGINT or SIGTERM.
func profileUntilSignal(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		pprof.StopCPUProfile()
		f.Close()
		os.Exit(0)
	}()
	return nil
}

// demo runs a server (on srv) and a short client (on client) in one process;
// they may be the same executor.
func demo(srv executor.Executor, client *executor.Local) error {
	l, err := listen(srv, "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer l.Close()
	h, err := executor.Spawn(srv, &acceptLoop{l: l})
	if err != nil {
		return err
	}
	defer h.Abort()
	fmt.Printf("echo server on %v; 10 connections, 64-byte messages, 1 s:\n", l.Addr())
	r, err := runClient(client, clientConfig{addr: l.Addr().String(), conns: 10, size: 64, duration: time.Second, warmup: 100 * time.Millisecond})
	if err != nil {
		return err
	}
	fmt.Println(r)
	return nil
}
