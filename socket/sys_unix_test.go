//go:build unix

package socket

import (
	"net"
	"testing"

	"golang.org/x/sys/unix"
)

// resetSeenAsEOF reports a system where a reset connection reads as the
// end of the stream: no unix system does.
func resetSeenAsEOF() bool { return false }

// setLingerZero makes Close of s reset the connection.
func setLingerZero(s *Stream) error {
	return unix.SetsockoptLinger(s.fd.sysfd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
}

// fullBacklog returns the address of a listening socket that never accepts,
// with a backlog of 0, so that connects beyond the first few pend.
func fullBacklog(t *testing.T) (addr string, stop func()) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return (&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: sa.(*unix.SockaddrInet4).Port}).String(), func() { unix.Close(fd) }
}
