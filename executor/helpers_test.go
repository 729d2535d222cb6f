package executor

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/leakcheck"
)

// executorKind is one executor implementation under the behavioural table.
type executorKind struct {
	name string
	open func(driverName string) (Executor, error)
}

var executorKinds = []executorKind{
	{"Local", func(d string) (Executor, error) { return NewLocal(WithDriver(d)) }},
	{"Runtime", func(d string) (Executor, error) { return NewRuntime(WithDriver(d), WithWorkers(2)) }},
	{"Runtime4", func(d string) (Executor, error) { return NewRuntime(WithDriver(d), WithWorkers(4)) }},
}

// forEachExecutor runs fn on a fresh executor of every kind on every driver
// linked in (driver.Names), closing it when the subtest ends.
func forEachExecutor(t *testing.T, fn func(t *testing.T, ex Executor)) {
	t.Helper()
	for _, k := range executorKinds {
		for _, d := range driver.Names() {
			t.Run(k.name+"/"+d, func(t *testing.T) {
				leakcheck.Check(t)
				ex, err := k.open(d)
				if err != nil {
					t.Fatalf("open %s on %s: %v", k.name, d, err)
				}
				t.Cleanup(func() {
					if err := ex.Close(); err != nil {
						t.Errorf("Close: %v", err)
					}
				})
				fn(t, ex)
			})
		}
	}
}

// forEachDriver runs fn once per driver linked in, in a subtest.
func forEachDriver(t *testing.T, fn func(t *testing.T, name string)) {
	t.Helper()
	for _, d := range driver.Names() {
		t.Run(d, func(t *testing.T) {
			leakcheck.Check(t)
			fn(t, d)
		})
	}
}

// fnFuture adapts a function to a future.
type fnFuture[T any] func(cx *future.Context) future.Poll[T]

func (f fnFuture[T]) Poll(cx *future.Context) future.Poll[T] { return f(cx) }

// ready is a future that is ready at once.
func ready[T any](v T) future.Future[T] {
	return fnFuture[T](func(*future.Context) future.Poll[T] { return future.Ready(v) })
}

// forever is a future that never completes and counts its polls and drops.
type forever struct {
	polls, drops atomic.Int32
}

func (f *forever) Poll(*future.Context) future.Poll[int] {
	f.polls.Add(1)
	return future.Pending[int]()
}

func (f *forever) Drop() { f.drops.Add(1) }

// gate is a future that is pending until Open; it keeps the last waker.
type gate struct {
	mu     sync.Mutex
	open   bool
	waker  future.Waker
	polled chan struct{} // closed at the first poll
	once   sync.Once
}

func newGate() *gate { return &gate{polled: make(chan struct{})} }

func (g *gate) Poll(cx *future.Context) future.Poll[struct{}] {
	g.once.Do(func() { close(g.polled) })
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open {
		return future.Ready(struct{}{})
	}
	g.waker = cx.Waker()
	return future.Pending[struct{}]()
}

func (g *gate) Open() {
	g.mu.Lock()
	g.open = true
	w := g.waker
	g.mu.Unlock()
	w.Wake()
}

// await runs h to completion on ex.
func await[T any](t *testing.T, ex Executor, h *JoinHandle[T]) future.Result[T] {
	t.Helper()
	r, err := BlockOn[future.Result[T]](ex, h)
	if err != nil {
		t.Fatalf("BlockOn: %v", err)
	}
	return r
}

// spawn spawns f on ex, failing the test on error.
func spawn[T any](t *testing.T, s Spawner, f future.Future[T]) *JoinHandle[T] {
	t.Helper()
	h, err := Spawn(s, f)
	if err != nil {
		t.Fatalf("Spawn: %v", err)
	}
	return h
}

// spawnJoinAll spawns n tasks made by mk from inside a task, joins them and
// counts the successes.
type spawnJoinAll struct {
	n    int
	mk   func(i int) future.Future[int]
	hs   []*JoinHandle[int]
	next int
}

func (s *spawnJoinAll) Poll(cx *future.Context) future.Poll[int] {
	if s.hs == nil {
		sp, err := SpawnerOf(cx)
		if err != nil {
			return future.Ready(-1)
		}
		s.hs = make([]*JoinHandle[int], 0, s.n)
		for i := range s.n {
			h, err := Spawn(sp, s.mk(i))
			if err != nil {
				return future.Ready(-1)
			}
			s.hs = append(s.hs, h)
		}
	}
	for ; s.next < len(s.hs); s.next++ {
		r, ok := s.hs[s.next].Poll(cx).Value()
		if !ok {
			return future.Pending[int]()
		}
		if r.Err != nil {
			return future.Ready(-1)
		}
	}
	return future.Ready(len(s.hs))
}

// settle lets ex run the tasks that are runnable now (and a little more).
func settle(t *testing.T, ex Executor) {
	t.Helper()
	if _, err := BlockOn[future.Result[struct{}]](ex, Sleep(2*time.Millisecond)); err != nil {
		t.Fatalf("BlockOn: %v", err)
	}
}
