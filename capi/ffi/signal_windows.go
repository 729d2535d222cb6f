//go:build windows && (amd64 || arm64)

package ffi

import (
	"errors"
	"sync"
	"unsafe"

	"golang.org/x/sys/windows"
)

// signal is the notifier's descriptor on Windows, which has no pipe a
// host's WSAPoll or select can wait on: the reading end of a connected
// loopback TCP pair, readable while a byte is in it. Both ends are
// non-blocking and not inherited by child processes.
type signal struct{ r, w windows.Handle }

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
var errImpostor = errors.New("the notifier's loopback listener accepted a connection from another socket")

func newSignal() (signal, error) {
	// Winsock counts start-ups; this one is never undone, like the one of
	// Go's net package.
	wsaStartupOnce.Do(func() {
		var d windows.WSAData
		wsaStartupErr = windows.WSAStartup(0x202, &d)
	})
	if wsaStartupErr != nil {
		return signal{}, wsaStartupErr
	}
	l, err := loopbackSocket()
	if err != nil {
		return signal{}, err
	}
	defer windows.Closesocket(l)
	if err := windows.Bind(l, &windows.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		return signal{}, err
	}
	if err := windows.Listen(l, 1); err != nil {
		return signal{}, err
	}
	addr, err := windows.Getsockname(l)
	if err != nil {
		return signal{}, err
	}
	w, err := loopbackSocket()
	if err != nil {
		return signal{}, err
	}
	// A blocking connect to a listening loopback socket completes at once.
	r, err := connectPair(l, w, addr)
	if err != nil {
		windows.Closesocket(w)
		return signal{}, err
	}
	s := signal{r: r, w: w}
	// No Nagle delay for a byte sent while an earlier one is unacknowledged.
	if err := windows.SetsockoptInt(w, windows.IPPROTO_TCP, windows.TCP_NODELAY, 1); err != nil {
		s.close()
		return signal{}, err
	}
	for _, h := range []windows.Handle{r, w} {
		if err := ioctlNonblock(h); err != nil {
			s.close()
			return signal{}, err
		}
	}
	return s, nil
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

// fd gives the reading SOCKET; hosts take it as an int64.
func (s signal) fd() int { return int(s.r) }

func (s signal) raise() {
	// WSAEWOULDBLOCK means the buffers are full, hence readable already.
	b := [1]byte{1}
	buf := windows.WSABuf{Len: 1, Buf: &b[0]}
	var sent uint32
	_ = windows.WSASend(s.w, &buf, 1, &sent, 0, nil, nil)
}

func (s signal) clear() {
	var b [64]byte
	buf := windows.WSABuf{Len: uint32(len(b)), Buf: &b[0]}
	for {
		var got, flags uint32
		if err := windows.WSARecv(s.r, &buf, 1, &got, &flags, nil, nil); err != nil || got == 0 {
			return
		}
	}
}

func (s signal) close() error {
	err := windows.Closesocket(s.r)
	if werr := windows.Closesocket(s.w); err == nil {
		err = werr
	}
	return err
}
