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

func TestReadiness(t *testing.T) {
	leakcheck.Check(t)
	const rw = driver.Read | driver.Write
	cases := []struct {
		ev       uint32
		interest driver.Interest
		want     driver.Readiness
	}{
		{unix.EPOLLIN, driver.Read, driver.Readable},
		{unix.EPOLLIN, driver.Write, 0},
		{unix.EPOLLOUT, rw, driver.Writable},
		{unix.EPOLLOUT, driver.Read, 0},
		{unix.EPOLLIN | unix.EPOLLRDHUP, rw, driver.Readable | driver.ReadClosed},
		{unix.EPOLLHUP, driver.Read, driver.ReadClosed},
		{unix.EPOLLHUP, driver.Write, driver.WriteClosed},
		{unix.EPOLLERR, driver.Read, driver.Error},
		{unix.EPOLLERR, driver.Write, driver.WriteClosed | driver.Error},
		{unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLERR | unix.EPOLLHUP | unix.EPOLLRDHUP, rw,
			driver.Readable | driver.Writable | driver.ReadClosed | driver.WriteClosed | driver.Error},
	}
	for _, c := range cases {
		if got := readiness(c.ev, c.interest); got != c.want {
			t.Errorf("readiness(%#x, %d) = %b, want %b", c.ev, c.interest, got, c.want)
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
