// Command echo measures echo servers side by side under the same load
// client (examples/echo -mode client, or netclient), each server in its own
// process, pinned: the server on CPU 0, the client on CPU 1 (one load
// client saturates a core of these 2-core machines, so the server's CPU per
// request is the figure to compare, see BENCHMARKS.md). The servers are
// libasync's Go echo (examples/echo) and a standard-library net echo
// (netecho, a goroutine per connection),
// as -go selects, and any number of C echo servers (-cserver NAME=PATH,
// repeated), each of which takes -addr HOST:PORT and is taken to be ready
// once it accepts a connection.
//
// Each round runs every connection count, and for each every server in
// turn, the reference (-ref) first. For each server and connection count it
// prints requests per second, the p50/p99 round trip, the server's CPU time
// per request (the utime+stime of the server process from /proc/PID/stat
// over the client's measured window, divided by the requests in it), that
// CPU time as a ratio to the reference server's in the same round, and
// fairness: the fewest requests any connection completed in the window and
// the number of connections that had a whole second of it with none. After
// the rounds, a Markdown table of the medians (fairness: the worst round).
// Then idle memory: each server's RSS growth while the client holds -idle
// connections (each echoed once), divided by their number. Linux only
// (taskset, /proc).
//
//	cd bench && go run ./echo -duration 3s
//	cd bench && go run ./echo -go libasync -cserver libuv=../build/uv-echo -cserver c-echo=../build/example-echo -ref libuv
//
// ../ci/bench.sh echo-c builds and runs the second.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/libasync/libasync/driver"
	_ "github.com/libasync/libasync/executor" // links the drivers that -driver names
)

var (
	duration   = flag.Duration("duration", 3*time.Second, "measured window of each case")
	warmup     = flag.Duration("warmup", 500*time.Millisecond, "load before each window")
	connsFlag  = flag.String("conns", "50,1000", "connection counts")
	size       = flag.Int("size", 64, "message size in bytes")
	idle       = flag.Int("idle", 10000, "idle connections for the memory case (0: skip)")
	runs       = flag.Int("runs", 1, "rounds; each round's figures are printed, then the medians")
	drv        = flag.String("driver", "epoll", "driver of the libasync server")
	profileDir = flag.String("profile", "", "write a CPU profile of each server per case into this directory")
	rate       = flag.Int("rate", 0, "requests per second the libasync client offers over all connections, each on a steady schedule (0: a closed loop that saturates the server)")
	clientKind = flag.String("client", "libasync", "load client: libasync (examples/echo -mode client) or net (netclient, a goroutine per connection)")
	serverArgs = flag.String("server-args", "", "extra arguments of the libasync server, space-separated (e.g. \"-runtime -workers 1\")")
	goServers  = flag.String("go", "libasync,net", "Go servers to measure, comma-separated: libasync (examples/echo), net (bench/netecho)")
	ref        = flag.String("ref", "net", "server whose CPU per request the ratios divide by")
	cServers   cServerFlag
)

func init() {
	flag.Var(&cServers, "cserver", "also measure the C echo server at PATH, which takes -addr, as NAME=PATH (repeatable; a PATH alone is named c-echo)")
}

// server is one echo server under test.
type server struct {
	name     string
	bin      string
	args     []string
	profiles bool // takes -cpuprofile
}

// cServerFlag collects the -cserver flags.
type cServerFlag []server

func (f *cServerFlag) String() string { return fmt.Sprint(*f) }

func (f *cServerFlag) Set(v string) error {
	name, path, ok := strings.Cut(v, "=")
	if !ok {
		name, path = "c-echo", v
	}
	if name == "" || path == "" {
		return fmt.Errorf("want NAME=PATH, got %q", v)
	}
	*f = append(*f, server{name: name, bin: path})
	return nil
}

func main() {
	flag.Parse()
	if !slices.Contains(driver.Names(), *drv) {
		fail(fmt.Errorf("driver %q is not one of %v", *drv, driver.Names()))
	}
	var conns []int
	for _, f := range strings.Split(*connsFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			fail(fmt.Errorf("bad -conns %q", *connsFlag))
		}
		conns = append(conns, n)
	}
	dir, err := os.MkdirTemp("", "libasync-bench-echo")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	echoBin, netBin, netClientBin := filepath.Join(dir, "echo"), filepath.Join(dir, "netecho"), filepath.Join(dir, "netclient")
	for bin, pkg := range map[string]string{echoBin: "github.com/libasync/libasync/examples/echo", netBin: "./netecho", netClientBin: "./netclient"} {
		if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
			fail(fmt.Errorf("go build %s: %v\n%s", pkg, err, out))
		}
	}
	clientBin := echoBin
	switch *clientKind {
	case "libasync":
	case "net":
		if *rate > 0 {
			fail(errors.New("-rate needs the libasync client"))
		}
		clientBin = netClientBin
	default:
		fail(fmt.Errorf("unknown -client %q", *clientKind))
	}
	servers, err := selectServers(echoBin, netBin)
	if err != nil {
		fail(err)
	}
	offered := "closed loop"
	if *rate > 0 {
		offered = fmt.Sprintf("%d req/s offered", *rate)
	}
	fmt.Printf("echo: %d-byte messages, window %v after %v warm-up, server on CPU 0, %s client on CPU 1 (%s), libasync driver %s\n",
		*size, *duration, *warmup, *clientKind, offered, *drv)
	fmt.Printf("%-14s %6s %10s %9s %9s %12s %8s %8s %8s\n", "server", "conns", "req/s", "p50", "p99", "CPU/request", "/"+*ref, "fewest", "stalled")
	// results[n][i] holds server i's rounds at n connections.
	results := map[int][][]loadResult{}
	for _, n := range conns {
		results[n] = make([][]loadResult, len(servers))
	}
	for round := range *runs {
		for _, n := range conns {
			var refCPU float64
			for i, s := range servers {
				m, err := measureLoad(s, n, clientBin, round)
				if err != nil {
					fail(fmt.Errorf("%s, %d connections: %v", s.name, n, err))
				}
				if i == 0 {
					refCPU = m.cpuPerReq
				}
				m.ratio = m.cpuPerReq / refCPU
				results[n][i] = append(results[n][i], m)
				fmt.Printf("%-14s %6d %10.0f %9v %9v %10.2fµs %8.2f %8d %8d\n",
					s.name, n, m.rps, m.p50, m.p99, m.cpuPerReq*1e6, m.ratio, m.fewest, m.stalled)
			}
		}
	}
	printMedians(conns, servers, results)
	if *idle > 0 {
		fmt.Printf("\nidle: %d connections, each echoed once, server RSS growth per connection\n", *idle)
		for _, s := range servers {
			b, err := measureIdle(s, *idle, echoBin)
			if err != nil {
				fail(fmt.Errorf("%s idle: %v", s.name, err))
			}
			fmt.Printf("%-14s %8.0f bytes per idle connection\n", s.name, b)
		}
	}
}

// printMedians prints, as a Markdown table, each server's median figures
// over the rounds, and its fairness in the worst round.
func printMedians(conns []int, servers []server, results map[int][][]loadResult) {
	fmt.Printf("\nmedians of %d round(s); fewest and stalled from the worst round:\n\n", *runs)
	fmt.Printf("| server | conns | req/s | p50 | p99 | server CPU per request | vs %s | fewest requests of a connection in %v | connections with a second of none |\n", *ref, *duration)
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	for _, n := range conns {
		for i, s := range servers {
			rs := results[n][i]
			med := func(f func(loadResult) float64) float64 {
				v := make([]float64, len(rs))
				for j, r := range rs {
					v[j] = f(r)
				}
				return median(v)
			}
			fewest, stalled := rs[0].fewest, rs[0].stalled
			for _, r := range rs[1:] {
				fewest, stalled = min(fewest, r.fewest), max(stalled, r.stalled)
			}
			fmt.Printf("| %s | %d | %.0f | %v | %v | %.2f µs | %.2f | %d | %d |\n", s.name, n,
				med(func(r loadResult) float64 { return r.rps }),
				time.Duration(med(func(r loadResult) float64 { return float64(r.p50) })).Round(time.Microsecond),
				time.Duration(med(func(r loadResult) float64 { return float64(r.p99) })).Round(time.Microsecond),
				med(func(r loadResult) float64 { return r.cpuPerReq })*1e6,
				med(func(r loadResult) float64 { return r.ratio }), fewest, stalled)
		}
	}
}

// selectServers returns the servers of -go and -cserver, the reference
// server first, or why they do not make a run.
func selectServers(echoBin, netBin string) ([]server, error) {
	var servers []server
	for _, name := range strings.Split(*goServers, ",") {
		switch strings.TrimSpace(name) {
		case "":
		case "libasync":
			servers = append(servers, server{"libasync", echoBin, append([]string{"-driver", *drv}, strings.Fields(*serverArgs)...), true})
		case "net":
			servers = append(servers, server{"net", netBin, nil, true})
		default:
			return nil, fmt.Errorf("unknown -go server %q", name)
		}
	}
	servers = append(servers, cServers...)
	refAt := -1
	for i, s := range servers {
		if slices.ContainsFunc(servers[:i], func(o server) bool { return o.name == s.name }) {
			return nil, fmt.Errorf("two servers named %s", s.name)
		}
		if s.name == *ref {
			refAt = i
		}
	}
	if refAt < 0 {
		return nil, fmt.Errorf("-ref %s is not one of the servers measured", *ref)
	}
	return append(append([]server{servers[refAt]}, servers[:refAt]...), servers[refAt+1:]...), nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench echo:", err)
	os.Exit(1)
}

// median returns the middle of v, the mean of the two middle values when
// there are an even number (so two rounds give their mean).
func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	switch {
	case len(s) == 0:
		return 0
	case len(s)%2 == 0:
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[len(s)/2]
}

// freePort returns a loopback port nobody listens on now.
func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// start runs the server pinned to CPU 0 and waits until it listens.
func start(s server, addr string, extra ...string) (*exec.Cmd, error) {
	args := append([]string{"-c", "0", s.bin, "-addr", addr}, s.args...)
	cmd := exec.Command("taskset", append(args, extra...)...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return cmd, nil
		}
	}
	stop(cmd)
	return nil, errors.New("server did not start listening")
}

// stop ends a process started by this program and reaps it.
func stop(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// cpuTime returns the utime+stime of process pid in seconds.
func cpuTime(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command name, which is in parentheses and may
	// hold spaces: utime and stime are fields 14 and 15 of the line.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	return (ut + st) / 100, nil // USER_HZ is 100 on Linux
}

// rss returns the resident set of process pid in bytes.
func rss(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("no VmRSS")
}

type loadResult struct {
	rps, cpuPerReq  float64
	ratio           float64 // cpuPerReq over the reference server's in the same round
	p50, p99        time.Duration
	fewest, stalled int // the client's conn_min and conn_stalled
}

// measureLoad runs one case: server s under n connections.
func measureLoad(s server, n int, clientBin string, round int) (loadResult, error) {
	addr, err := freePort()
	if err != nil {
		return loadResult{}, err
	}
	var extra []string
	if *profileDir != "" && s.profiles {
		extra = []string{"-cpuprofile", filepath.Join(*profileDir, fmt.Sprintf("%s-%d-%d.pprof", s.name, n, round))}
	}
	srv, err := start(s, addr, extra...)
	if err != nil {
		return loadResult{}, err
	}
	defer stop(srv)
	client := exec.Command("taskset", "-c", "1", clientBin, "-mode", "client", "-addr", addr,
		"-connections", strconv.Itoa(n), "-size", strconv.Itoa(*size),
		"-duration", duration.String(), "-warmup", warmup.String())
	if *rate > 0 {
		client.Args = append(client.Args, "-rate", strconv.Itoa(*rate))
	}
	client.Stderr = os.Stderr
	out, err := client.StdoutPipe()
	if err != nil {
		return loadResult{}, err
	}
	if err := client.Start(); err != nil {
		return loadResult{}, err
	}
	defer client.Wait()
	var cpu0, cpu1 float64
	var res loadResult
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "START":
			if cpu0, err = cpuTime(srv.Process.Pid); err != nil {
				return res, err
			}
		case strings.HasPrefix(line, "END "):
			if cpu1, err = cpuTime(srv.Process.Pid); err != nil {
				return res, err
			}
			kv := map[string]string{}
			for _, f := range strings.Fields(line)[1:] {
				k, v, _ := strings.Cut(f, "=")
				kv[k] = v
			}
			reqs, _ := strconv.ParseFloat(kv["requests"], 64)
			res.rps, _ = strconv.ParseFloat(kv["req/s"], 64)
			res.p50, _ = time.ParseDuration(kv["p50"])
			res.p99, _ = time.ParseDuration(kv["p99"])
			var err1, err2 error
			res.fewest, err1 = strconv.Atoi(kv["conn_min"])
			res.stalled, err2 = strconv.Atoi(kv["conn_stalled"])
			if err1 != nil || err2 != nil {
				return res, fmt.Errorf("no fairness figures in the client's report %q", line)
			}
			if reqs == 0 {
				return res, errors.New("no requests measured")
			}
			res.cpuPerReq = (cpu1 - cpu0) / reqs
			return res, nil
		}
	}
	return res, errors.New("client ended without a report")
}

// measureIdle returns the server's RSS growth per connection while the
// client holds n idle connections.
func measureIdle(s server, n int, clientBin string) (float64, error) {
	addr, err := freePort()
	if err != nil {
		return 0, err
	}
	srv, err := start(s, addr)
	if err != nil {
		return 0, err
	}
	defer stop(srv)
	time.Sleep(300 * time.Millisecond)
	before, err := rss(srv.Process.Pid)
	if err != nil {
		return 0, err
	}
	client := exec.Command("taskset", "-c", "1", clientBin, "-mode", "idle", "-addr", addr, "-connections", strconv.Itoa(n))
	client.Stderr = os.Stderr
	out, err := client.StdoutPipe()
	if err != nil {
		return 0, err
	}
	if err := client.Start(); err != nil {
		return 0, err
	}
	defer stop(client)
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if sc.Text() == "READY" {
			time.Sleep(time.Second) // let the server settle (a GC cycle, freed buffers)
			after, err := rss(srv.Process.Pid)
			if err != nil {
				return 0, err
			}
			return (after - before) / float64(n), nil
		}
	}
	return 0, errors.New("idle client ended before READY")
}
