package readable

import (
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/libasync/libasync/driver"
)

// procWSAPoll is what a host waits on a SOCKET with (x/sys/windows does not
// wrap it).
var procWSAPoll = windows.NewLazySystemDLL("ws2_32.dll").NewProc("WSAPoll")

// wsaPollFd is WSAPOLLFD.
type wsaPollFd struct {
	fd      uintptr
	events  int16
	revents int16
}

const pollRdNorm = 0x0100 // POLLRDNORM

// Within reports whether the SOCKET fd is readable, or turns readable
// within d (0: now). It fails tb if WSAPoll fails.
func Within(tb testing.TB, fd driver.FD, d time.Duration) bool {
	tb.Helper()
	p := wsaPollFd{fd: uintptr(fd), events: pollRdNorm}
	r, _, e := procWSAPoll.Call(uintptr(unsafe.Pointer(&p)), 1, uintptr(d.Milliseconds()))
	if int32(r) < 0 {
		tb.Fatalf("WSAPoll: %v", e)
	}
	return r == 1 && p.revents&pollRdNorm != 0
}
