package poll

import (
	"encoding/binary"
	"testing"

	"github.com/libasync/libasync/driver/drivertest"
	"github.com/libasync/libasync/internal/leakcheck"
	"golang.org/x/sys/unix"
)

// Repeated Wakes before a Wait write the eventfd once.
func TestWakeSignalsOnce(t *testing.T) {
	leakcheck.Check(t)
	d := drivertest.Open(t, Open)
	for range 1000 {
		if err := d.Wake(); err != nil {
			t.Fatal(err)
		}
	}
	var buf [8]byte
	if _, err := unix.Read(d.(*poller).wake.fd, buf[:]); err != nil {
		t.Fatalf("read eventfd: %v", err)
	}
	if got := binary.NativeEndian.Uint64(buf[:]); got != 1 {
		t.Fatalf("1000 Wakes wrote the eventfd %d times, want 1", got)
	}
}
