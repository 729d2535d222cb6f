package executor

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/testkit"
)

// The shapes of ../shared/BENCHMARKING.md on Local and on the Runtime
// (GOMAXPROCS workers), each next to its goroutine peer measured in the same
// run:
//
//	go test -run '^$' -bench . -benchmem -count 5 ./executor/

// benchKinds are the executors the shapes run on.
var benchKinds = []struct {
	name string
	open func() (Executor, error)
}{
	{"Local", func() (Executor, error) { return NewLocal() }},
	{"Runtime", func() (Executor, error) { return NewRuntime() }},
}

// benchExecutors runs fn as a sub-benchmark on a fresh executor of each kind.
func benchExecutors(b *testing.B, fn func(b *testing.B, ex Executor)) {
	for _, k := range benchKinds {
		b.Run(k.name, func(b *testing.B) {
			ex, err := k.open()
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { ex.Close() })
			b.ReportAllocs()
			fn(b, ex)
		})
	}
}

// runTask runs f as a task of ex (so that its spawns and wakes are made
// inside the executor) and returns its value.
func runTask[T any](b *testing.B, ex Executor, f future.Future[T]) T {
	b.Helper()
	h, err := Spawn(ex, f)
	if err != nil {
		b.Fatal(err)
	}
	r, err := BlockOn[future.Result[T]](ex, h)
	if err != nil || r.Err != nil {
		b.Fatal(err, r.Err)
	}
	return r.Value
}

const spawnBatch = 100_000

func BenchmarkSpawnMany(b *testing.B) {
	empty := ready(0)
	benchExecutors(b, func(b *testing.B, ex Executor) {
		for left := b.N; left > 0; left -= spawnBatch {
			runTask[int](b, ex, &spawnJoinAll{n: min(left, spawnBatch), mk: func(int) future.Future[int] { return empty }})
		}
	})
	b.Run("Goroutines", func(b *testing.B) {
		b.ReportAllocs()
		for left := b.N; left > 0; left -= spawnBatch {
			var wg sync.WaitGroup
			for range min(left, spawnBatch) {
				wg.Add(1)
				go func() { wg.Done() }()
			}
			wg.Wait()
		}
	})
}

// chain spawns the next link until depth reaches zero, then completes; each
// link awaits the next, as Tokio's chained_spawn does.
type chain struct {
	depth int
	next  *JoinHandle[int]
}

func (c *chain) Poll(cx *future.Context) future.Poll[int] {
	if c.depth == 0 {
		return future.Ready(0)
	}
	if c.next == nil {
		sp, _ := SpawnerOf(cx)
		var err error
		if c.next, err = Spawn[int](sp, &chain{depth: c.depth - 1}); err != nil {
			panic(err)
		}
	}
	if c.next.Poll(cx).IsPending() {
		return future.Pending[int]()
	}
	return future.Ready(c.depth)
}

func BenchmarkChainedSpawn(b *testing.B) {
	const depth = 1000
	benchExecutors(b, func(b *testing.B, ex Executor) {
		for left := b.N; left > 0; left -= depth {
			runTask[int](b, ex, &chain{depth: min(left, depth)})
		}
	})
	b.Run("Goroutines", func(b *testing.B) {
		b.ReportAllocs()
		var link func(n int, done chan<- struct{})
		link = func(n int, done chan<- struct{}) {
			if n == 0 {
				close(done)
				return
			}
			go link(n-1, done)
		}
		for left := b.N; left > 0; left -= depth {
			done := make(chan struct{})
			go link(min(left, depth), done)
			<-done
		}
	})
}

// pinger sends on out and waits for the answer on in, n times; the ponger
// echoes n times.
type pinger struct {
	out, in *future.Channel[int]
	n       int
	first   bool // pinger sends first
	sent    bool // this round's message is out (first) or awaited (other)
	recv    *future.RecvFuture[int]
}

func (p *pinger) Poll(cx *future.Context) future.Poll[int] {
	if p.recv == nil {
		// One receive future for the whole run, Reset after each value:
		// a round trip allocates nothing, as a goroutine's channel
		// receive does not.
		p.recv = p.in.Recv()
	}
	for p.n > 0 {
		if p.first && !p.sent {
			if err := p.out.TrySend(p.n); err != nil {
				panic(err)
			}
			p.sent = true
		}
		r, ok := p.recv.Poll(cx).Value()
		if !ok {
			return future.Pending[int]()
		}
		if r.Err != nil {
			panic(r.Err)
		}
		p.recv.Reset()
		p.sent = false
		if !p.first {
			if err := p.out.TrySend(r.Value); err != nil {
				panic(err)
			}
		}
		p.n--
	}
	return future.Ready(0)
}

func BenchmarkPingPong(b *testing.B) {
	benchExecutors(b, func(b *testing.B, ex Executor) {
		c1, _ := future.NewChannel[int](1)
		c2, _ := future.NewChannel[int](1)
		pong, err := Spawn[int](ex, &pinger{out: c2, in: c1, n: b.N})
		if err != nil {
			b.Fatal(err)
		}
		runTask[int](b, ex, &pinger{out: c1, in: c2, n: b.N, first: true})
		BlockOn[future.Result[int]](ex, pong)
	})
	b.Run("Goroutines", func(b *testing.B) {
		b.ReportAllocs()
		c1, c2 := make(chan int), make(chan int)
		go func() {
			for range b.N {
				c2 <- <-c1
			}
		}()
		for i := range b.N {
			c1 <- i
			<-c2
		}
	})
}

// yielder yields n times. It fills a cache line of its own, as each
// goroutine's loop counter of the peer lives on its own stack: yielders
// polled on different workers must not share one.
type yielder struct {
	n int
	y Yield
	_ [48]byte
}

func (y *yielder) Poll(cx *future.Context) future.Poll[int] {
	for y.n > 0 {
		if y.y.Poll(cx).IsPending() {
			return future.Pending[int]()
		}
		y.y = Yield{}
		y.n--
	}
	return future.Ready(0)
}

func BenchmarkYieldMany(b *testing.B) {
	const tasks = 20
	benchExecutors(b, func(b *testing.B, ex Executor) {
		per := max(b.N/tasks, 1)
		runTask[int](b, ex, &spawnJoinAll{n: tasks, mk: func(int) future.Future[int] { return &yielder{n: per} }})
	})
	b.Run("Gosched", func(b *testing.B) {
		b.ReportAllocs()
		per := max(b.N/tasks, 1)
		var wg sync.WaitGroup
		for range tasks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range per {
					runtime.Gosched()
				}
			}()
		}
		wg.Wait()
	})
}

// never is a future that is never woken (and holds nothing).
type never struct{}

func (never) Poll(*future.Context) future.Poll[int] { return future.Pending[int]() }

func BenchmarkPendingMem(b *testing.B) {
	const n = 100_000
	for _, k := range benchKinds {
		b.Run(k.name, func(b *testing.B) {
			for range b.N {
				ex, err := k.open()
				if err != nil {
					b.Fatal(err)
				}
				before := testkit.MemInUse()
				hs := make([]*JoinHandle[int], n)
				for i := range hs {
					hs[i], _ = Spawn[int](ex, never{})
				}
				// Every task polled once and waiting.
				if l, ok := ex.(*Local); ok {
					if err := l.RunUntilIdle(); err != nil {
						b.Fatal(err)
					}
				}
				for ex.Stats().TasksPolled < n {
					time.Sleep(time.Millisecond)
				}
				after := testkit.MemInUse()
				b.ReportMetric(float64(after-before)/n, "bytes/task")
				runtime.KeepAlive(hs)
				ex.Close()
			}
		})
	}
	b.Run("Goroutines", func(b *testing.B) {
		for range b.N {
			before := testkit.MemInUse()
			block := make(chan struct{})
			var started sync.WaitGroup
			for range n {
				started.Add(1)
				go func() {
					started.Done()
					<-block
				}()
			}
			started.Wait()
			after := testkit.MemInUse()
			b.ReportMetric(float64(after-before)/n, "bytes/task")
			close(block)
		}
	})
}

// inserter files b.N far-away Sleeps in the wheel, then drops them.
type inserter struct{ n int }

func (in *inserter) Poll(cx *future.Context) future.Poll[int] {
	ss := make([]*SleepFuture, 0, min(in.n, 1<<20))
	for i := range in.n {
		s := Sleep(time.Hour + time.Duration(i)*time.Microsecond)
		s.Poll(cx)
		ss = append(ss, s)
		if len(ss) == cap(ss) {
			for _, s := range ss {
				s.Drop()
			}
			ss = ss[:0]
		}
	}
	for _, s := range ss {
		s.Drop()
	}
	return future.Ready(in.n)
}

func BenchmarkTimers(b *testing.B) {
	benchExecutors(b, func(b *testing.B, ex Executor) {
		runTask[int](b, ex, &inserter{n: b.N})
	})
	b.Run("NewTimer", func(b *testing.B) {
		b.ReportAllocs()
		ts := make([]*time.Timer, 0, min(b.N, 1<<20))
		for i := range b.N {
			ts = append(ts, time.NewTimer(time.Hour+time.Duration(i)*time.Microsecond))
			if len(ts) == cap(ts) {
				for _, t := range ts {
					t.Stop()
				}
				ts = ts[:0]
			}
		}
		for _, t := range ts {
			t.Stop()
		}
	})
}

// BenchmarkMillionSleeps runs 1,000,000 tasks each awaiting a Sleep of
// 1-100 ms and checks that every one fired and none early (the timers shape's
// correctness half); ns/op is the wall time per sleeper, spawn to join.
//
//	go test -run '^$' -bench MillionSleeps -benchtime 1x ./executor/
func BenchmarkMillionSleeps(b *testing.B) {
	const n = 1_000_000
	benchExecutors(b, func(b *testing.B, ex Executor) {
		for range b.N {
			var early atomic.Int32
			before := ex.Stats()
			got := runTask[int](b, ex, &spawnJoinAll{n: n, mk: func(i int) future.Future[int] {
				return &earlyCheck{s: Sleep(time.Duration(1+i%100) * time.Millisecond), early: &early}
			}})
			st := ex.Stats()
			if got != n || early.Load() != 0 || st.TimersFired-before.TimersFired != st.TimersInserted-before.TimersInserted {
				b.Fatalf("%d of %d sleepers joined, %d early, timers %+v", got, n, early.Load(), st)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/sleeper")
	})
}
