package tasksync

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libasync/libasync/executor"
	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/testkit"
)

// The targets of the toolkit issue, each next to its peer in the same run
// (BENCHMARKS.md, "tasksync", has the figures):
//
//	go test -run '^$' -bench . -benchmem -count 5 ./tasksync/

// BenchmarkUncontended: one op is an acquire and a release that nobody
// contends, by each path, beside sync.Mutex's Lock and Unlock (the peer).
// The futures are reused through Reset, as a state machine holds them.
func BenchmarkUncontended(b *testing.B) {
	cx := future.NewContext(future.Waker{}, nil)
	b.Run("SyncMutex", func(b *testing.B) {
		b.ReportAllocs()
		var mu sync.Mutex
		for range b.N {
			mu.Lock()
			mu.Unlock() //nolint:staticcheck // the empty section is the point
		}
	})
	b.Run("SemaphoreTryAcquire", func(b *testing.B) {
		b.ReportAllocs()
		s, _ := NewSemaphore(1)
		for range b.N {
			p, _ := s.TryAcquire(1)
			p.Release()
		}
	})
	b.Run("SemaphoreAcquire", func(b *testing.B) {
		b.ReportAllocs()
		s, _ := NewSemaphore(1)
		f := s.Acquire(1)
		for range b.N {
			f.Reset()
			r, _ := f.Poll(cx).Value()
			r.Value.Release()
		}
	})
	b.Run("MutexTryLock", func(b *testing.B) {
		b.ReportAllocs()
		var m Mutex
		for range b.N {
			g, _ := m.TryLock()
			g.Unlock()
		}
	})
	b.Run("MutexLock", func(b *testing.B) {
		b.ReportAllocs()
		var m Mutex
		f := m.Lock()
		for range b.N {
			f.Reset()
			g, _ := f.Poll(cx).Value()
			g.Unlock()
		}
	})
}

// benchKinds are the executors the task benchmarks run on.
var benchKinds = []struct {
	name string
	open func() (executor.Executor, error)
}{
	{"Local", func() (executor.Executor, error) { return executor.NewLocal() }},
	{"Runtime", func() (executor.Executor, error) { return executor.NewRuntime() }},
}

// never is a future of output T that is never woken and holds nothing:
// the bare task a waiting one is measured against.
type never[T any] struct{}

func (never[T]) Poll(*future.Context) future.Poll[T] { return future.Pending[T]() }

// pendingBytes spawns n tasks made by mk on a fresh executor, lets each be
// polled once, and returns the memory they added per task.
func pendingBytes[T any](b *testing.B, open func() (executor.Executor, error), n int, mk func() future.Future[T]) float64 {
	ex, err := open()
	if err != nil {
		b.Fatal(err)
	}
	defer ex.Close()
	before := testkit.MemInUse()
	hs := make([]*executor.JoinHandle[T], n)
	for i := range hs {
		if hs[i], err = executor.Spawn(ex, mk()); err != nil {
			b.Fatal(err)
		}
	}
	if l, ok := ex.(*executor.Local); ok {
		if err := l.RunUntilIdle(); err != nil {
			b.Fatal(err)
		}
	}
	for ex.Stats().TasksPolled < uint64(n) {
		time.Sleep(time.Millisecond)
	}
	after := testkit.MemInUse()
	runtime.KeepAlive(hs)
	return float64(after-before) / float64(n)
}

// waitingMem measures n tasks waiting on what mk makes against n tasks on
// never[T], on each executor, and reports both and the difference: what a
// waiting task costs beyond the task (target: at most 64 B).
func waitingMem[T any](b *testing.B, mk func() future.Future[T]) {
	const n = 100_000
	for _, k := range benchKinds {
		b.Run(k.name, func(b *testing.B) {
			for range b.N {
				bare := pendingBytes(b, k.open, n, func() future.Future[T] { return never[T]{} })
				waiting := pendingBytes(b, k.open, n, mk)
				b.ReportMetric(bare, "bare-B/task")
				b.ReportMetric(waiting, "B/task")
				b.ReportMetric(waiting-bare, "beyond-B/task")
			}
		})
	}
}

// BenchmarkWaitingTaskMem: the memory of a task waiting on each primitive
// beyond the task itself, measured as executor's pending_mem: heap and
// stacks after a collection, per task, over 100,000 tasks.
func BenchmarkWaitingTaskMem(b *testing.B) {
	b.Run("Semaphore", func(b *testing.B) {
		var s Semaphore // no permits: every Acquire waits
		waitingMem(b, func() future.Future[future.Result[Permit]] { return s.Acquire(1) })
	})
	b.Run("Mutex", func(b *testing.B) {
		var m Mutex
		m.TryLock() // held for good: every Lock waits
		waitingMem(b, func() future.Future[Guard] { return m.Lock() })
	})
	b.Run("Watch", func(b *testing.B) {
		tx := NewWatch(0)
		waitingMem(b, func() future.Future[future.Result[int]] { return tx.Subscribe().Changed() })
	})
	b.Run("Broadcast", func(b *testing.B) {
		tx, _ := NewBroadcast[int](16)
		waitingMem(b, func() future.Future[future.Result[int]] { return tx.Subscribe().Recv() })
	})
}

// fanOutReceivers is the number of receiving tasks (or goroutines) of
// BenchmarkBroadcastFanOut.
const fanOutReceivers = 1000

// fanOutReceiver receives until the channel closes; the receiver of each
// value that is the last to take it notifies the sender.
type fanOutReceiver struct {
	rx   *BroadcastReceiver[int]
	left *atomic.Int64
	done *future.Notify
}

func (r *fanOutReceiver) Poll(cx *future.Context) future.Poll[int] {
	for {
		v, ok := r.rx.Recv().Poll(cx).Value()
		if !ok {
			return future.Pending[int]()
		}
		if v.Err != nil {
			return future.Ready(0)
		}
		if r.left.Add(-1) == 0 {
			r.done.NotifyOne()
		}
	}
}

// fanOutSender sends n values, each once the previous one reached every
// receiver.
type fanOutSender struct {
	tx       *BroadcastSender[int]
	left     *atomic.Int64
	done     *future.Notify
	n        int
	notified *future.Notified // the wait for the current value; nil between values
}

func (s *fanOutSender) Poll(cx *future.Context) future.Poll[int] {
	for {
		if s.notified != nil {
			if s.notified.Poll(cx).IsPending() {
				return future.Pending[int]()
			}
			s.notified = nil
		}
		if s.n == 0 {
			s.tx.Close()
			return future.Ready(0)
		}
		s.n--
		s.left.Store(fanOutReceivers)
		s.notified = s.done.Notified()
		s.tx.Send(s.n)
	}
}

// BenchmarkBroadcastFanOut: one op is one value sent to 1,000 receiving
// tasks, all of which have taken it before the next is sent. Peer: the
// same fan-out with 1,000 goroutines, each receiving from a Go channel of
// its own (buffered, so that the sender does not wait for each receiver in
// turn). Target: at most 0.5x the goroutines.
func BenchmarkBroadcastFanOut(b *testing.B) {
	for _, k := range benchKinds {
		b.Run(k.name, func(b *testing.B) {
			b.ReportAllocs()
			ex, err := k.open()
			if err != nil {
				b.Fatal(err)
			}
			defer ex.Close()
			tx, _ := NewBroadcast[int](1)
			var left atomic.Int64
			var done future.Notify
			hs := make([]*executor.JoinHandle[int], fanOutReceivers)
			for i := range hs {
				if hs[i], err = executor.Spawn[int](ex, &fanOutReceiver{rx: tx.Subscribe(), left: &left, done: &done}); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			sender, err := executor.Spawn[int](ex, &fanOutSender{tx: tx, left: &left, done: &done, n: b.N})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := executor.BlockOn[future.Result[int]](ex, sender); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			for _, h := range hs {
				executor.BlockOn[future.Result[int]](ex, h)
			}
		})
	}
	b.Run("Goroutines", func(b *testing.B) {
		b.ReportAllocs()
		chans := make([]chan int, fanOutReceivers)
		var left atomic.Int64
		done := make(chan struct{}, 1)
		var wg sync.WaitGroup
		for i := range chans {
			chans[i] = make(chan int, 1)
			wg.Go(func() {
				for range chans[i] {
					if left.Add(-1) == 0 {
						done <- struct{}{}
					}
				}
			})
		}
		b.ResetTimer()
		for i := range b.N {
			left.Store(fanOutReceivers)
			for _, c := range chans {
				c <- i
			}
			<-done
		}
		b.StopTimer()
		for _, c := range chans {
			close(c)
		}
		wg.Wait()
	})
}
