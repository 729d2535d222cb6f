package drivertest

import (
	"errors"
	"testing"
	"time"

	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/internal/leakcheck"
)

// The socket seam behaves alike on every platform, so that the suite's
// expectations of sockets hold wherever it runs. No driver is involved.
func TestSocketSeam(t *testing.T) {
	leakcheck.Check(t)
	var socks []driver.FD
	t.Cleanup(func() {
		for _, fd := range socks {
			closeSocket(fd)
		}
	})
	l, port, err := listenLoopback()
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	socks = append(socks, l)
	if _, err := acceptOne(l); !errors.Is(err, errWouldBlock) {
		t.Fatalf("accept with no connection: %v, want errWouldBlock", err)
	}
	pair := func() (driver.FD, driver.FD) {
		c, err := startConnect(port)
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		socks = append(socks, c)
		s := retry(t, "accept", func() (driver.FD, error) { return acceptOne(l) })
		socks = append(socks, s)
		return c, s
	}
	a, b := pair()
	var buf [8]byte
	if _, err := readSocket(a, buf[:]); !errors.Is(err, errWouldBlock) {
		t.Fatalf("read of an idle socket: %v, want errWouldBlock", err)
	}
	if n, err := writeSocket(b, []byte("ping")); n != 4 || err != nil {
		t.Fatalf("write: %d, %v", n, err)
	}
	if n := retry(t, "read", func() (int, error) { return readSocket(a, buf[:]) }); string(buf[:n]) != "ping" {
		t.Fatalf("read %q, want ping", buf[:n])
	}
	if err := shutdownWrite(b); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if n := retry(t, "read after shutdown", func() (int, error) { return readSocket(a, buf[:]) }); n != 0 {
		t.Fatalf("read after the peer's shutdown gave %d bytes, want end of stream", n)
	}

	a, b = pair()
	socks = socks[:len(socks)-1] // b is closed by the reset
	if err := resetSocket(b); err != nil {
		t.Fatalf("reset: %v", err)
	}
	if err := awaitReset(a); err != nil {
		t.Logf("the peer's reset is not seen here: %v", err)
	}
	if ok, err := ensureDescriptors(100); !ok || err != nil {
		t.Fatalf("ensureDescriptors(100) = %v, %v", ok, err)
	}
}

// retry calls op until it stops answering errWouldBlock.
func retry[T any](t *testing.T, what string, op func() (T, error)) T {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		v, err := op()
		if err == nil {
			return v
		}
		if !errors.Is(err, errWouldBlock) || time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(time.Millisecond)
	}
}
