//go:build linux

package epoll

import (
	"math"
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

// The kernel reports EPOLLIN, EPOLLRDHUP and EPOLLOUT only when asked for
// them, EPOLLHUP and EPOLLERR always.
func TestReadiness(t *testing.T) {
	leakcheck.Check(t)
	cases := []struct {
		ev   uint32
		want driver.Readiness
	}{
		{unix.EPOLLIN, driver.Readable},
		{unix.EPOLLOUT, driver.Writable},
		{unix.EPOLLIN | unix.EPOLLRDHUP, driver.Readable | driver.ReadClosed},
		{unix.EPOLLHUP, driver.ReadClosed | driver.WriteClosed},
		{unix.EPOLLERR, driver.WriteClosed | driver.Error},
		{unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLERR | unix.EPOLLHUP | unix.EPOLLRDHUP,
			driver.Readable | driver.Writable | driver.ReadClosed | driver.WriteClosed | driver.Error},
	}
	for _, c := range cases {
		if got := readiness(c.ev); got != c.want {
			t.Errorf("readiness(%#x) = %b, want %b", c.ev, got, c.want)
		}
	}
}

// Tokens make the round trip through the kernel's event unchanged, the
// wake-up's reserved one included.
func TestTokenRoundTrip(t *testing.T) {
	leakcheck.Check(t)
	for _, tok := range []driver.Token{0, 1, 0xfeedface_12345678, 1 << 63, 0xffffffff, driver.ReservedToken} {
		var ev unix.EpollEvent
		setToken(&ev, tok)
		if got := token(&ev); got != tok {
			t.Errorf("token %#x came back as %#x", tok, got)
		}
	}
}

func TestMsec(t *testing.T) {
	leakcheck.Check(t)
	cases := []struct {
		d    time.Duration
		want int
	}{
		{time.Nanosecond, 1},
		{time.Millisecond, 1},
		{time.Millisecond + 1, 2},
		{1500 * time.Microsecond, 2},
		{time.Second, 1000},
		{math.MaxInt32 * time.Millisecond, math.MaxInt32},
		{math.MaxInt64, math.MaxInt32},
	}
	for _, c := range cases {
		if got := msec(c.d); got != c.want {
			t.Errorf("msec(%v) = %d, want %d", c.d, got, c.want)
		}
	}
}
