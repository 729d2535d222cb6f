package wakefd

import (
	"testing"
	"time"

	"golang.org/x/sys/windows"

	"github.com/libasync/libasync/driver"
)

var kinds = map[string]func() (descriptor, error){"tcp pair": open}

// readable reports whether a byte waits on the SOCKET fd, or, with wait,
// arrives within 5 s (it crosses a loopback connection).
func readable(t *testing.T, fd driver.FD, wait bool) bool {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var b [1]byte
		buf := windows.WSABuf{Len: 1, Buf: &b[0]}
		var got uint32
		flags := uint32(windows.MSG_PEEK)
		err := windows.WSARecv(fd, &buf, 1, &got, &flags, nil, nil)
		switch {
		case err == nil && got == 1:
			return true
		case err != nil && err != windows.WSAEWOULDBLOCK:
			t.Fatalf("WSARecv: %v", err)
		case !wait || time.Now().After(deadline):
			return false
		}
		time.Sleep(time.Millisecond)
	}
}
