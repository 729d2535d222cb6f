//go:build unix

package poll

import (
	"testing"
	"time"

	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/driver/drivertest"
	"github.com/libasync/libasync/internal/leakcheck"
	"golang.org/x/sys/unix"
)

func TestConformance(t *testing.T) {
	drivertest.Run(t, Open)
}

// A registration change during a blocked Wait rebuilds the poll set, which
// the wake-up fd interrupts, without making Wait return to its caller.
func TestChangeDuringWaitDoesNotReturn(t *testing.T) {
	leakcheck.Check(t)
	d := drivertest.Open(t, Open)
	p := d.(*poller)
	type result struct {
		n    int
		err  error
		took time.Duration
	}
	done := make(chan result, 1)
	go func() {
		start := time.Now()
		n, err := d.Wait(make([]driver.Event, 4), 300*time.Millisecond)
		done <- result{n, err, time.Since(start)}
	}()
	// A pipe is enough here: poll watches any descriptor.
	fds, cleanup := pipe(t)
	defer cleanup()
	for !inPoll(p) {
		time.Sleep(time.Millisecond)
	}
	if err := d.Register(fds[0], 1, driver.Read); err != nil {
		t.Fatal(err)
	}
	for inPoll(p) && dirty(p) {
		time.Sleep(time.Millisecond)
	}
	if err := d.Deregister(fds[0]); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || r.n != 0 {
		t.Fatalf("Wait = %d, %v", r.n, r.err)
	}
	if r.took < 300*time.Millisecond {
		t.Fatalf("Wait returned after %v, before its timeout, though only registrations changed", r.took)
	}
}

func inPoll(p *poller) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inPoll
}

func dirty(p *poller) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dirty
}

func TestReadiness(t *testing.T) {
	leakcheck.Check(t)
	if got := readiness(0, driver.Read|driver.Write); got != 0 {
		t.Errorf("no revents gave %b", got)
	}
	// What a reported event takes out of the poll set.
	cases := []struct {
		r    driver.Readiness
		want driver.Interest
	}{
		{driver.Readable, driver.Read},
		{driver.ReadClosed, driver.Read},
		{driver.Writable, driver.Write},
		{driver.Readable | driver.Writable, driver.Read | driver.Write},
		{driver.Error, driver.Read | driver.Write},
	}
	for _, c := range cases {
		if got := reported(c.r); got != c.want {
			t.Errorf("reported(%b) = %b, want %b", c.r, got, c.want)
		}
	}
}

// pipe returns a non-blocking pipe and a function that closes it.
func pipe(t *testing.T) ([2]int, func()) {
	t.Helper()
	var fds [2]int
	if err := unix.Pipe(fds[:]); err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		if err := unix.SetNonblock(fd, true); err != nil {
			t.Fatal(err)
		}
	}
	return fds, func() { unix.Close(fds[0]); unix.Close(fds[1]) }
}

// Where poll(2) lacks POLLRDHUP the driver peeks at readable stream sockets;
// the peek itself is portable, so it is tested here on any unix.
func TestPeekEOF(t *testing.T) {
	leakcheck.Check(t)
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	if !isStream(fds[0]) {
		t.Fatal("isStream: a stream socketpair is not a stream")
	}
	if _, err := unix.Write(fds[1], []byte("x")); err != nil {
		t.Fatal(err)
	}
	if peekEOF(fds[0]) {
		t.Fatal("peekEOF with a byte pending")
	}
	if err := unix.Shutdown(fds[1], unix.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	if peekEOF(fds[0]) {
		t.Fatal("peekEOF with a byte pending before the end of stream")
	}
	var buf [4]byte
	if n, err := unix.Read(fds[0], buf[:]); n != 1 || err != nil {
		t.Fatalf("read: %d, %v", n, err)
	}
	if !peekEOF(fds[0]) {
		t.Fatal("peekEOF at the end of stream")
	}

	dgram, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dgram[0])
	defer unix.Close(dgram[1])
	if isStream(dgram[0]) {
		t.Fatal("isStream: a datagram socketpair is a stream")
	}
	p, cleanup := pipe(t)
	defer cleanup()
	if isStream(p[0]) {
		t.Fatal("isStream: a pipe is a stream socket")
	}
}

// Ready fds are served in turn through a small events slice even when every
// Wait rebuilds the poll set (registrations come and go all the time on a
// busy server): a rebuild does not send the scan back to the first fd.
func TestSmallSliceFairAcrossRebuilds(t *testing.T) {
	leakcheck.Check(t)
	d := drivertest.Open(t, Open)
	a, closeA := pipe(t)
	defer closeA()
	b, closeB := pipe(t)
	defer closeB()
	churn, closeChurn := pipe(t)
	defer closeChurn()
	for i, fds := range [][2]int{a, b} {
		if _, err := unix.Write(fds[1], []byte("x")); err != nil {
			t.Fatal(err)
		}
		if err := d.Register(fds[0], driver.Token(i), driver.Read); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[driver.Token]int{}
	events := make([]driver.Event, 1)
	for range 10 {
		// A registration change makes the next Wait rebuild its poll set.
		if err := d.Register(churn[0], 99, driver.Read); err != nil {
			t.Fatal(err)
		}
		if err := d.Deregister(churn[0]); err != nil {
			t.Fatal(err)
		}
		n, err := d.Wait(events, time.Second)
		if err != nil || n != 1 {
			t.Fatalf("Wait = %d, %v; want one event", n, err)
		}
		tok := events[0].Token
		seen[tok]++
		// Still readable (never drained): rearmed, it is ready again.
		if err := d.Rearm([]int{a[0], b[0]}[tok], tok, driver.Read); err != nil {
			t.Fatal(err)
		}
	}
	if seen[0] == 0 || seen[1] == 0 {
		t.Fatalf("two always-ready fds through a one-event slice were served %v: one starved", seen)
	}
}
