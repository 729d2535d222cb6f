//go:build windows && (amd64 || arm64)

package ffi_test

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"
)

// procWSAPoll is what a host waits on the notifier's SOCKET with
// (x/sys/windows does not wrap it).
var procWSAPoll = windows.NewLazySystemDLL("ws2_32.dll").NewProc("WSAPoll")

// wsaPollFd is WSAPOLLFD.
type wsaPollFd struct {
	fd      uintptr
	events  int16
	revents int16
}

const pollRdNorm = 0x0100 // POLLRDNORM

// waitReadable reports whether the SOCKET fd becomes readable within
// timeoutMs.
func waitReadable(t *testing.T, fd, timeoutMs int) bool {
	t.Helper()
	p := wsaPollFd{fd: uintptr(fd), events: pollRdNorm}
	r, _, e := procWSAPoll.Call(uintptr(unsafe.Pointer(&p)), 1, uintptr(timeoutMs))
	if int32(r) < 0 {
		t.Fatalf("WSAPoll: %v", e)
	}
	return r == 1 && p.revents&pollRdNorm != 0
}
