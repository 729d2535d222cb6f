//go:build windows

package socket

import (
	"net"
	"testing"

	"golang.org/x/sys/windows"
)

// underWine reports whether the test runs under Wine, whose ntdll exports
// wine_get_version.
func underWine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}

// resetSeenAsEOF reports a system where a reset connection reads as the
// end of the stream: Wine 8's recv answers 0 there, not WSAECONNRESET.
func resetSeenAsEOF() bool { return underWine() }

// setLingerZero makes Close of s reset the connection.
func setLingerZero(s *Stream) error {
	return windows.SetsockoptLinger(s.fd.sysfd, windows.SOL_SOCKET, windows.SO_LINGER, &windows.Linger{Onoff: 1, Linger: 0})
}

// fullBacklog returns the address of a listening socket that never accepts,
// with the smallest backlog, so that connects beyond the first few pend (or
// are refused, where the system answers a full backlog so).
func fullBacklog(t *testing.T) (addr string, stop func()) {
	t.Helper()
	fd, err := windows.Socket(windows.AF_INET, windows.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := windows.Bind(fd, &windows.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := windows.Listen(fd, 1); err != nil {
		t.Fatal(err)
	}
	sa, err := windows.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return (&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: sa.(*windows.SockaddrInet4).Port}).String(), func() { windows.Closesocket(fd) }
}
