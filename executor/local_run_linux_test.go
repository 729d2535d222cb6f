package executor

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/libasync/libasync/future"
)

// TestBackendFDDrivesRunNoWaitFromAnOuterEpollLoop embeds a Local in an
// event loop of the test's own, as a host embeds libuv with uv_backend_fd:
// the outer epoll waits on BackendFD with BackendTimeout, then a RunNoWait
// handles what arrived: a timer, and wakes from another goroutine.
func TestBackendFDDrivesRunNoWaitFromAnOuterEpollLoop(t *testing.T) {
	forEachLocal(t, func(t *testing.T, l *Local) {
		fd, err := l.BackendFD()
		if err != nil {
			t.Skipf("%s has no backend descriptor: %v", l.DriverName(), err)
		}
		outer, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(outer)
		ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
		if err := unix.EpollCtl(outer, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
			t.Fatal(err)
		}
		const rounds = 100
		ch, err := future.NewChannel[int](1)
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		rx := ch.Recv()
		recv := mustSpawn(t, l, future.PollFn(func(cx *future.Context) future.Poll[struct{}] {
			for {
				r, ok := rx.Poll(cx).Value()
				if !ok {
					return future.Pending[struct{}]()
				}
				if r.Err != nil {
					return future.Ready(struct{}{})
				}
				got++
				rx.Reset()
			}
		}))
		sleep := mustSpawn(t, l, Sleep(5*time.Millisecond))
		go func() {
			for i := range rounds {
				future.BlockOn(ch.Send(i))
			}
			ch.Close()
		}()
		start := time.Now()
		events := make([]unix.EpollEvent, 1)
		for !recv.IsFinished() || !sleep.IsFinished() {
			if time.Since(start) > time.Minute {
				t.Fatalf("stuck: received %d of %d, sleep finished %v", got, rounds, sleep.IsFinished())
			}
			d, err := l.BackendTimeout()
			if err != nil {
				t.Fatal(err)
			}
			// With no timer, only a wake can end the wait: 10 s without
			// one means a wake was lost.
			ms := 10000
			if d >= 0 {
				ms = int((d + time.Millisecond - 1) / time.Millisecond)
			}
			n, err := unix.EpollWait(outer, events, ms)
			if err != nil && err != unix.EINTR {
				t.Fatal(err)
			}
			if n == 0 && err == nil && d < 0 {
				t.Fatalf("no wake reached the backend descriptor in 10 s (received %d of %d)", got, rounds)
			}
			if _, err := l.Run(RunNoWait); err != nil {
				t.Fatal(err)
			}
		}
		if got != rounds {
			t.Fatalf("received %d, want %d", got, rounds)
		}
		if el := time.Since(start); el < 5*time.Millisecond {
			t.Fatalf("the 5 ms sleep ended after %v", el)
		}
	})
}
