package drivertest

import "github.com/libasync/libasync/driver"

// The suite's loopback TCP sockets, written once over the system calls that
// socket_unix.go and socket_windows.go provide: sysSocket, setNonblock,
// sysBind, sysListen, sysPort, sysConnect, sysAccept, sysRead, sysWrite,
// sysLinger, closeSocket and wouldBlock.

// newSocket returns a non-blocking IPv4 TCP socket.
func newSocket() (driver.FD, error) { return prepared(sysSocket()) }

// prepared makes a new socket non-blocking and close-on-exec, closing it if
// that fails.
func prepared(fd driver.FD, err error) (driver.FD, error) {
	if err != nil {
		return invalidFD, err
	}
	if err := setNonblock(fd); err != nil {
		closeSocket(fd)
		return invalidFD, err
	}
	return fd, nil
}

// listenLoopback returns a listening socket on 127.0.0.1 and its port.
func listenLoopback() (driver.FD, int, error) {
	fd, err := newSocket()
	if err != nil {
		return invalidFD, 0, err
	}
	port := 0
	err = sysBind(fd)
	if err == nil {
		err = sysListen(fd)
	}
	if err == nil {
		port, err = sysPort(fd)
	}
	if err != nil {
		closeSocket(fd)
		return invalidFD, 0, err
	}
	return fd, port, nil
}

// startConnect begins a non-blocking connect to 127.0.0.1:port; the socket
// turns writable when the connection is established.
func startConnect(port int) (driver.FD, error) {
	fd, err := newSocket()
	if err != nil {
		return invalidFD, err
	}
	if err := sysConnect(fd, port); err != nil {
		closeSocket(fd)
		return invalidFD, err
	}
	return fd, nil
}

// acceptOne accepts a connection from a non-blocking listener, returning
// errWouldBlock while none is queued. The new socket is made non-blocking.
func acceptOne(l driver.FD) (driver.FD, error) {
	fd, err := sysAccept(l)
	return prepared(fd, mapErr(err))
}

func readSocket(fd driver.FD, p []byte) (int, error)  { return transfer(sysRead, fd, p) }
func writeSocket(fd driver.FD, p []byte) (int, error) { return transfer(sysWrite, fd, p) }

// transfer runs a read or write of p (none when p is empty, which Windows'
// WSABuf cannot describe), mapping "would block" to errWouldBlock.
func transfer(op func(driver.FD, []byte) (int, error), fd driver.FD, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, err := op(fd, p)
	if err != nil {
		return 0, mapErr(err)
	}
	return n, nil
}

// resetSocket closes fd with SO_LINGER set to zero, which sends an RST.
func resetSocket(fd driver.FD) error {
	if err := sysLinger(fd); err != nil {
		return err
	}
	return closeSocket(fd)
}

// mapErr turns the system's "would block" into errWouldBlock.
func mapErr(err error) error {
	if err != nil && wouldBlock(err) {
		return errWouldBlock
	}
	return err
}
