//go:build windows

package iocp

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/windows"

	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/driver/drivertest"
	"github.com/libasync/libasync/internal/leakcheck"
)

func TestConformance(t *testing.T) {
	drivertest.Run(t, Open)
}

func TestReadiness(t *testing.T) {
	leakcheck.Check(t)
	const rw = driver.Read | driver.Write
	cases := []struct {
		events uint32
		armed  driver.Interest
		want   driver.Readiness
	}{
		{afdPollReceive, driver.Read, driver.Readable},
		{afdPollAccept, driver.Read, driver.Readable},
		{afdPollReceive, driver.Write, 0},
		{afdPollSend, rw, driver.Writable},
		{afdPollSend, driver.Read, 0},
		{afdPollDisconnect, rw, driver.Readable | driver.ReadClosed},
		{afdPollDisconnect, driver.Write, 0},
		{afdPollAbort, rw, driver.ReadClosed | driver.WriteClosed | driver.Error},
		{afdPollAbort, driver.Read, driver.ReadClosed | driver.Error},
		{afdPollConnectFail, driver.Write, driver.WriteClosed | driver.Error},
		{afdPollConnectFail, driver.Read, driver.Error},
		{afdPollReceive | afdPollSend, 0, 0},
	}
	for _, c := range cases {
		if got := readiness(c.events, c.armed); got != c.want {
			t.Errorf("readiness(%#x, %d) = %b, want %b", c.events, c.armed, got, c.want)
		}
	}
	for _, c := range []struct {
		armed driver.Interest
		r     driver.Readiness
		want  driver.Interest
	}{
		{rw, driver.Readable, driver.Write},
		{rw, driver.Writable, driver.Read},
		{rw, driver.ReadClosed | driver.WriteClosed, 0},
		{driver.Read, driver.Error, 0},
	} {
		if got := disarm(c.armed, c.r); got != c.want {
			t.Errorf("disarm(%d, %b) = %d, want %d", c.armed, c.r, got, c.want)
		}
	}
}

// A handle that is not a socket is refused with ErrNotSupported.
func TestNotASocket(t *testing.T) {
	leakcheck.Check(t)
	d := drivertest.Open(t, Open)
	var r, w windows.Handle
	if err := windows.CreatePipe(&r, &w, nil, 0); err != nil {
		t.Fatal(err)
	}
	defer windows.CloseHandle(r)
	defer windows.CloseHandle(w)
	if err := d.Register(r, 1, driver.Read); !errors.Is(err, driver.ErrNotSupported) {
		t.Fatalf("Register of a pipe: %v, want ErrNotSupported", err)
	}
}

// A deregistered socket's request memory is reused only after the
// cancelled poll's completion was taken from the port.
func TestDeregisterFreesAfterCancel(t *testing.T) {
	leakcheck.Check(t)
	dd := drivertest.Open(t, Open)
	d := dd.(*poller)
	s, err := windows.Socket(windows.AF_INET, windows.SOCK_STREAM, windows.IPPROTO_TCP)
	if err != nil {
		t.Fatal(err)
	}
	defer windows.Closesocket(s)
	if err := windows.Bind(s, &windows.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := windows.Listen(s, 1); err != nil {
		t.Fatal(err)
	}
	for round := range 3 {
		if err := d.Register(s, driver.Token(round), driver.Read); err != nil {
			t.Fatal(err)
		}
		d.mu.Lock()
		sl := d.socks[s].sl
		d.mu.Unlock()
		if err := d.Deregister(s); err != nil {
			t.Fatal(err)
		}
		d.mu.Lock()
		_, held := d.bySlot[sl]
		d.mu.Unlock()
		if !held {
			t.Fatalf("round %d: memory of a cancelled poll freed before its completion", round)
		}
		deadline := time.Now().Add(10 * time.Second)
		for held {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: the cancelled poll never completed", round)
			}
			n, err := d.Wait(make([]driver.Event, 4), 10*time.Millisecond)
			if err != nil || n != 0 {
				t.Fatalf("Wait: %d events, %v; want none", n, err)
			}
			d.mu.Lock()
			_, held = d.bySlot[sl]
			d.mu.Unlock()
		}
	}
}

// Slots come from memory outside Go's heap, across several chunks, and are
// reused once returned.
func TestSlab(t *testing.T) {
	leakcheck.Check(t)
	var s slab
	seen := make(map[*slot]bool)
	var got []*slot
	for range 2*slotsPerCk + 1 {
		sl, err := s.get()
		if err != nil {
			t.Fatal(err)
		}
		if seen[sl] {
			t.Fatalf("slot %p handed out twice", sl)
		}
		seen[sl] = true
		got = append(got, sl)
	}
	if len(s.chunks) != 3 {
		t.Fatalf("%d chunks for %d slots, want 3", len(s.chunks), len(got))
	}
	s.put(got[0])
	if sl, _ := s.get(); sl != got[0] {
		t.Fatalf("a returned slot was not reused")
	}
	if err := s.release(); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkIOCP runs the drivers' shared benchmarks on iocp.
func BenchmarkIOCP(b *testing.B) {
	drivertest.Bench(b, Open)
}
