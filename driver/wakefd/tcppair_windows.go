package wakefd

import (
	"errors"
	"sync"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/libasync/libasync/driver"
)

// tcpPair is the wake-up on Windows, which has no pipe that WSAPoll or
// select can wait on: a connected pair of loopback TCP sockets, whose
// reading end is readable while a byte is in it.
type tcpPair struct{ r, w windows.Handle }

var (
	ws2            = windows.NewLazySystemDLL("ws2_32.dll")
	procAccept     = ws2.NewProc("accept")
	procIoctl      = ws2.NewProc("ioctlsocket")
	wsaStartupOnce sync.Once
	wsaStartupErr  error
)

// fionbio is Winsock's FIONBIO, which x/sys/windows lacks.
const fionbio = 0x8004667e

// errImpostor is the failure of a pair whose listener was connected to by
// someone else first.
var errImpostor = errors.New("wakefd: the loopback listener accepted a connection from another socket")

func open() (descriptor, error) {
	// Winsock counts start-ups; this one is never undone, like the one of
	// Go's net package.
	wsaStartupOnce.Do(func() {
		var d windows.WSAData
		wsaStartupErr = windows.WSAStartup(0x202, &d)
	})
	if wsaStartupErr != nil {
		return nil, wsaStartupErr
	}
	l, err := loopbackSocket()
	if err != nil {
		return nil, err
	}
	defer windows.Closesocket(l)
	if err := windows.Bind(l, &windows.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		return nil, err
	}
	if err := windows.Listen(l, 1); err != nil {
		return nil, err
	}
	addr, err := windows.Getsockname(l)
	if err != nil {
		return nil, err
	}
	w, err := loopbackSocket()
	if err != nil {
		return nil, err
	}
	// A blocking connect to a listening loopback socket completes at once.
	r, err := connectPair(l, w, addr)
	if err != nil {
		windows.Closesocket(w)
		return nil, err
	}
	p := tcpPair{r: r, w: w}
	// No Nagle delay for a byte sent while an earlier one is unacknowledged.
	if err := windows.SetsockoptInt(w, windows.IPPROTO_TCP, windows.TCP_NODELAY, 1); err != nil {
		p.close()
		return nil, err
	}
	for _, h := range []windows.Handle{r, w} {
		if err := ioctlNonblock(h); err != nil {
			p.close()
			return nil, err
		}
	}
	return p, nil
}

func loopbackSocket() (windows.Handle, error) {
	return windows.WSASocket(windows.AF_INET, windows.SOCK_STREAM, windows.IPPROTO_TCP, nil, 0,
		windows.WSA_FLAG_OVERLAPPED|windows.WSA_FLAG_NO_HANDLE_INHERIT)
}

// connectPair connects w to the listener l at addr and returns the accepted
// end, checked to be w's peer: another local process may connect to the
// listener in between.
func connectPair(l, w windows.Handle, addr windows.Sockaddr) (windows.Handle, error) {
	if err := windows.Connect(w, addr); err != nil {
		return 0, err
	}
	var rsa windows.RawSockaddrAny
	n := int32(unsafe.Sizeof(rsa))
	h, _, e := procAccept.Call(uintptr(l), uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&n)))
	r := windows.Handle(h)
	if r == windows.InvalidHandle {
		return 0, e
	}
	peer, err := rsa.Sockaddr()
	local, lerr := windows.Getsockname(w)
	if err == nil {
		err = lerr
	}
	if err == nil && !sameInet4(peer, local) {
		err = errImpostor
	}
	if err != nil {
		windows.Closesocket(r)
		return 0, err
	}
	return r, nil
}

func sameInet4(a, b windows.Sockaddr) bool {
	x, ok1 := a.(*windows.SockaddrInet4)
	y, ok2 := b.(*windows.SockaddrInet4)
	return ok1 && ok2 && *x == *y
}

func ioctlNonblock(h windows.Handle) error {
	on := uint32(1)
	if r, _, e := procIoctl.Call(uintptr(h), fionbio, uintptr(unsafe.Pointer(&on))); r != 0 {
		return e
	}
	return nil
}

func (p tcpPair) fd() driver.FD { return p.r }

func (p tcpPair) signal() error {
	b := [1]byte{1}
	buf := windows.WSABuf{Len: 1, Buf: &b[0]}
	var sent uint32
	err := windows.WSASend(p.w, &buf, 1, &sent, 0, nil, nil)
	if err == windows.WSAEWOULDBLOCK { // the buffers are full, hence readable
		return nil
	}
	return err
}

func (p tcpPair) drain() {
	var b [64]byte
	buf := windows.WSABuf{Len: uint32(len(b)), Buf: &b[0]}
	for {
		var got, flags uint32
		if err := windows.WSARecv(p.r, &buf, 1, &got, &flags, nil, nil); err != nil || got == 0 {
			return
		}
	}
}

func (p tcpPair) close() error {
	return errors.Join(windows.Closesocket(p.r), windows.Closesocket(p.w))
}
