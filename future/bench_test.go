package future

import (
	"testing"
)

// pendingOnce is Pending on its first poll (after waking its waker, as the
// contract asks) and Ready on the second: the smallest real suspension.
type pendingOnce struct{ polled bool }

func (p *pendingOnce) Poll(cx *Context) Poll[int] {
	if p.polled {
		return Ready(1)
	}
	p.polled = true
	cx.Waker().Wake()
	return Pending[int]()
}

// BenchmarkAwaitPendingOnce: one op is one Await of a future that is
// Pending once, inside a running Async body: the body suspends, the poller
// polls again, the body resumes. Peer: BenchmarkHandoffGoroutineChannel.
func BenchmarkAwaitPendingOnce(b *testing.B) {
	b.ReportAllocs()
	var p pendingOnce
	f := Async(func(a *Awaiter) int {
		sum := 0
		for range b.N {
			p.polled = false
			sum += Await[int](a, &p)
		}
		return sum
	})
	cx := NewContext(Waker{}, nil)
	b.ResetTimer()
	for f.Poll(cx).IsPending() {
	}
}

// BenchmarkHandoffGoroutineChannel is the same hand-off done the goroutine
// way: the waiting side is a goroutine, resumed by a send on an unbuffered
// channel, that hands back through another.
func BenchmarkHandoffGoroutineChannel(b *testing.B) {
	b.ReportAllocs()
	resume, back := make(chan struct{}), make(chan int)
	go func() {
		for range resume {
			back <- 1
		}
	}()
	defer close(resume)
	b.ResetTimer()
	for range b.N {
		resume <- struct{}{}
		<-back
	}
}

// BenchmarkAsyncAwaitOnce: one op builds an Async future whose body awaits a
// future that is Pending once, and drives it to completion: the coroutine's
// whole life. Peer: BenchmarkGoroutineHandoffOnce.
func BenchmarkAsyncAwaitOnce(b *testing.B) {
	b.ReportAllocs()
	cx := NewContext(Waker{}, nil)
	for range b.N {
		var p pendingOnce
		f := Async(func(a *Awaiter) int { return Await[int](a, &p) })
		for f.Poll(cx).IsPending() {
		}
	}
}

// BenchmarkGoroutineHandoffOnce starts a goroutine that hands one value over
// an unbuffered channel: a goroutine's whole life for one hand-off.
func BenchmarkGoroutineHandoffOnce(b *testing.B) {
	b.ReportAllocs()
	for range b.N {
		ch := make(chan int)
		go func() { ch <- 1 }()
		<-ch
	}
}

// pollPending polls f b.N times; f must stay Pending.
func pollPending[T any](b *testing.B, f Future[T]) {
	b.ReportAllocs()
	cx := NewContext(Waker{}, nil)
	for range b.N {
		if f.Poll(cx).IsReady() {
			b.Fatal("Ready")
		}
	}
}

func pendingFn() Future[int] {
	return PollFn(func(*Context) Poll[int] { return Pending[int]() })
}

// BenchmarkPollFnPoll: one op is one poll of a pending PollFn.
func BenchmarkPollFnPoll(b *testing.B) { pollPending(b, pendingFn()) }

// BenchmarkMapPoll: one op is one poll of a Map over a pending PollFn.
func BenchmarkMapPoll(b *testing.B) {
	pollPending(b, Map(pendingFn(), func(v int) int { return v + 1 }))
}

// BenchmarkJoinAll4Poll: one op is one poll of a JoinAll of four pending
// PollFns.
func BenchmarkJoinAll4Poll(b *testing.B) {
	pollPending(b, JoinAll(pendingFn(), pendingFn(), pendingFn(), pendingFn()))
}

// BenchmarkJoinAll4Complete: one op builds a JoinAll of four Resolved
// futures and polls it to Ready: construction included.
func BenchmarkJoinAll4Complete(b *testing.B) {
	b.ReportAllocs()
	cx := NewContext(Waker{}, nil)
	fs := []Future[int]{Resolved(1), Resolved(2), Resolved(3), Resolved(4)}
	children := make([]Future[int], len(fs))
	for range b.N {
		copy(children, fs)
		if JoinAll(children...).Poll(cx).IsPending() {
			b.Fatal("Pending")
		}
	}
}

// BenchmarkOneshotRoundTrip: one op makes a oneshot, polls the receiver
// (Pending), sends, and polls it again (Ready), on one goroutine.
func BenchmarkOneshotRoundTrip(b *testing.B) {
	b.ReportAllocs()
	w := &wakeCounter{}
	cx := NewContext(NewWaker(w), nil)
	for i := range b.N {
		s, r := NewOneshot[int]()
		r.Poll(cx)
		s.Send(i)
		if r.Poll(cx).IsPending() {
			b.Fatal("Pending")
		}
	}
}

// BenchmarkChannelRoundTrip: one op is a Send future and a Recv future
// through a Channel, both Ready at once, on one goroutine.
// Peer: BenchmarkGoChanRoundTrip.
func BenchmarkChannelRoundTrip(b *testing.B) {
	b.ReportAllocs()
	c, _ := NewChannel[int](16)
	cx := NewContext(Waker{}, nil)
	for i := range b.N {
		c.Send(i).Poll(cx)
		if c.Recv().Poll(cx).IsPending() {
			b.Fatal("Pending")
		}
	}
}

// BenchmarkChannelTryRoundTrip: one op is TrySend and TryRecv.
func BenchmarkChannelTryRoundTrip(b *testing.B) {
	b.ReportAllocs()
	c, _ := NewChannel[int](16)
	for i := range b.N {
		c.TrySend(i)
		c.TryRecv()
	}
}

// BenchmarkGoChanRoundTrip: one op is a send and a receive on a buffered Go
// channel, on one goroutine.
func BenchmarkGoChanRoundTrip(b *testing.B) {
	b.ReportAllocs()
	c := make(chan int, 16)
	for i := range b.N {
		c <- i
		<-c
	}
}

// BenchmarkOneshotPingPong: two goroutines, each driving futures with
// BlockOn, bounce a value through a fresh oneshot each way; one op is a
// round trip. Peer: BenchmarkGoChanPingPong.
func BenchmarkOneshotPingPong(b *testing.B) {
	b.ReportAllocs()
	type pair struct {
		back *OneshotSender[int]
		v    int
	}
	c, _ := NewChannel[pair](1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			r := BlockOn[Result[pair]](c.Recv())
			if r.Err != nil {
				return
			}
			r.Value.back.Send(r.Value.v + 1)
		}
	}()
	b.ResetTimer()
	for i := range b.N {
		s, r := NewOneshot[int]()
		c.TrySend(pair{s, i})
		BlockOn[Result[int]](r)
	}
	b.StopTimer()
	c.Close()
	<-done
}

// BenchmarkGoChanPingPong: the same round trip between two goroutines over
// unbuffered Go channels.
func BenchmarkGoChanPingPong(b *testing.B) {
	b.ReportAllocs()
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v + 1
		}
	}()
	defer close(ping)
	for i := range b.N {
		ping <- i
		<-pong
	}
}
