package socket

import (
	"net"

	"github.com/libasync/libasync/future"
)

// Listen returns a future that opens a TCP listener on addr ("host:port";
// an empty host means every IPv4 address, "[::]" every IPv6 one, port 0 a
// free port). IP literals are used as they are; a host name is resolved on
// a blocking goroutine (executor.SpawnBlocking) and the first address
// (IPv4 first) is used. The listener belongs to the runtime that polls the
// future.
func Listen(addr string) future.Future[future.Result[*Listener]] {
	return &localFuture[*Listener]{res: resolver{netw: "tcp", addr: addr, passive: true}, open: listenTCP}
}

// listenTCP opens a TCP listener on ep.
func listenTCP(cx *future.Context, ep endpoint) (*Listener, error) {
	sa, err := ep.sockaddr()
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: "tcp", Err: err}
	}
	return listenStream(cx, "tcp", ep.family(), sa)
}

// Connect returns a future that connects a TCP stream to addr
// ("host:port"). IP literals are used as they are; a host name is resolved
// on a blocking goroutine (executor.SpawnBlocking) and its addresses are
// tried in turn (IPv4 first) until one connects; the error is the first
// address's. The stream belongs to the runtime that polls the future.
//
// The connect is non-blocking: the future waits for the socket to become
// writable and then reads its error (SO_ERROR), so a refused connection is
// an error wrapping syscall.ECONNREFUSED.
func Connect(addr string) *ConnectFuture {
	return &ConnectFuture{netw: "tcp", res: &resolver{netw: "tcp", addr: addr}}
}
