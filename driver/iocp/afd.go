//go:build windows

package iocp

import (
	"errors"
	"fmt"
	"math"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// The functions golang.org/x/sys/windows lacks.
var (
	ntdll                           = windows.NewLazySystemDLL("ntdll.dll")
	kernel32                        = windows.NewLazySystemDLL("kernel32.dll")
	procNtDeviceIoControlFile       = ntdll.NewProc("NtDeviceIoControlFile")
	procNtCancelIoFileEx            = ntdll.NewProc("NtCancelIoFileEx")
	procGetQueuedCompletionStatusEx = kernel32.NewProc("GetQueuedCompletionStatusEx")
)

const (
	ioctlAFDPoll  = 0x00012024
	sioBaseHandle = 0x48000022
	soType        = 0x1008 // SO_TYPE, missing from x/sys/windows
	infinite      = math.MaxUint32
)

// The events of an AFD poll.
const (
	afdPollReceive     = 0x0001
	afdPollSend        = 0x0004
	afdPollDisconnect  = 0x0008
	afdPollAbort       = 0x0010
	afdPollLocalClose  = 0x0020
	afdPollAccept      = 0x0080
	afdPollConnectFail = 0x0100
)

// ioStatusBlock is IO_STATUS_BLOCK: the kernel writes it when the request
// completes.
type ioStatusBlock struct {
	status      uintptr // NTSTATUS, in a pointer-sized union
	information uintptr
}

// afdPollInfo is AFD_POLL_INFO with one AFD_POLL_HANDLE_INFO, the buffer an
// AFD poll reads its request from and writes its answer to.
type afdPollInfo struct {
	timeout         int64
	numberOfHandles uint32
	exclusive       uint32
	handle          windows.Handle
	events          uint32
	status          uint32
}

// slot is the memory the kernel writes while a poll is pending: it lives in
// a slab outside Go's heap (see slab), never on a Go stack.
type slot struct {
	iosb   ioStatusBlock // first: its address is the request's ApcContext
	info   afdPollInfo
	cancel ioStatusBlock
}

// overlappedEntry is OVERLAPPED_ENTRY. Overlapped holds the ApcContext of an
// AFD poll (a slot's address, outside Go's heap) or 0 for a wake-up.
type overlappedEntry struct {
	key        uintptr
	overlapped uintptr
	internal   uintptr
	bytes      uint32
}

// slab hands out slots from chunks of memory that Go's garbage collector
// neither moves nor frees: a completion names its slot by address, long
// after the call that submitted it returned (PLATFORM-NOTES saw a moved
// OVERLAPPED corrupt a completion).
type slab struct {
	chunks []uintptr
	free   []*slot
}

const (
	chunkSize  = 64 << 10 // VirtualAlloc's granularity
	slotsPerCk = chunkSize / unsafe.Sizeof(slot{})
)

// get returns a zeroed slot.
func (s *slab) get() (*slot, error) {
	if len(s.free) == 0 {
		base, err := windows.VirtualAlloc(0, chunkSize, windows.MEM_COMMIT|windows.MEM_RESERVE, windows.PAGE_READWRITE)
		if err != nil {
			return nil, fmt.Errorf("VirtualAlloc: %w", err)
		}
		s.chunks = append(s.chunks, base)
		for i := slotsPerCk; i > 0; i-- {
			s.free = append(s.free, slotAt(base+(i-1)*unsafe.Sizeof(slot{})))
		}
	}
	sl := s.free[len(s.free)-1]
	s.free = s.free[:len(s.free)-1]
	*sl = slot{}
	return sl, nil
}

// put returns a slot that no pending request uses any more.
func (s *slab) put(sl *slot) { s.free = append(s.free, sl) }

// release frees every chunk; no request may be pending on any slot.
func (s *slab) release() error {
	var err error
	for _, base := range s.chunks {
		err = errors.Join(err, windows.VirtualFree(base, 0, windows.MEM_RELEASE))
	}
	s.chunks, s.free = nil, nil
	return err
}

// slotAt turns an address inside a chunk into a pointer. The address is not
// in Go's heap, so the garbage collector ignores the pointer; reading the
// uintptr's bits as a pointer states that without a uintptr-to-pointer
// conversion that vet would flag.
func slotAt(addr uintptr) *slot {
	return *(**slot)(unsafe.Pointer(&addr))
}

// openAFD opens a handle to the AFD driver, through which sockets are
// polled.
func openAFD() (windows.Handle, error) {
	name, err := windows.NewNTUnicodeString(`\Device\Afd\libasync`)
	if err != nil {
		return 0, err
	}
	oa := windows.OBJECT_ATTRIBUTES{ObjectName: name}
	oa.Length = uint32(unsafe.Sizeof(oa))
	var h windows.Handle
	var iosb windows.IO_STATUS_BLOCK
	err = windows.NtCreateFile(&h, windows.SYNCHRONIZE, &oa, &iosb, nil, 0,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, windows.FILE_OPEN, 0, 0, 0)
	if err != nil {
		return 0, fmt.Errorf(`NtCreateFile \Device\Afd: %w`, err)
	}
	return h, nil
}

// baseHandle returns the base provider's handle of socket s, which AFD
// polls; a handle that is not a socket fails.
func baseHandle(s windows.Handle) (windows.Handle, error) {
	// Wine answers SIO_BASE_HANDLE for any handle: ask a question only a
	// socket answers first.
	if _, err := windows.GetsockoptInt(s, windows.SOL_SOCKET, soType); err != nil {
		return 0, err
	}
	var base windows.Handle
	var n uint32
	err := windows.WSAIoctl(s, sioBaseHandle, nil, 0, (*byte)(unsafe.Pointer(&base)), uint32(unsafe.Sizeof(base)), &n, nil, 0)
	if err != nil {
		return 0, err
	}
	return base, nil
}

// pollAFD submits an AFD poll of sl.info on afd; its completion reaches the
// port afd is associated with, naming sl.
func pollAFD(afd windows.Handle, sl *slot) windows.NTStatus {
	sl.iosb.status = uintptr(windows.STATUS_PENDING)
	p := uintptr(unsafe.Pointer(sl))
	info := uintptr(unsafe.Pointer(&sl.info))
	return ntCall(procNtDeviceIoControlFile, uintptr(afd), 0, 0, p, p,
		ioctlAFDPoll, info, unsafe.Sizeof(sl.info), info, unsafe.Sizeof(sl.info))
}

// cancelAFD asks for sl's pending poll to be cancelled; it then completes
// with STATUS_CANCELLED, unless it completed already (STATUS_NOT_FOUND).
func cancelAFD(afd windows.Handle, sl *slot) windows.NTStatus {
	return ntCall(procNtCancelIoFileEx, uintptr(afd), uintptr(unsafe.Pointer(&sl.iosb)), uintptr(unsafe.Pointer(&sl.cancel)))
}

// failed reports whether st is an error status (NT_ERROR: severity 3), as
// opposed to success, information (STATUS_PENDING) or a warning.
func failed(st windows.NTStatus) bool { return st>>30 == 3 }

// ntCall calls an ntdll function. It calls SyscallN directly: the variadic
// arguments of LazyProc.Call escape, an allocation per call.
func ntCall(p *windows.LazyProc, args ...uintptr) windows.NTStatus {
	if p.Find() != nil {
		return windows.STATUS_ENTRYPOINT_NOT_FOUND
	}
	r, _, _ := syscall.SyscallN(p.Addr(), args...)
	return windows.NTStatus(r)
}

// getCompletions is GetQueuedCompletionStatusEx, not alertable; removed
// receives the count, as a local count would escape (see ntCall).
func getCompletions(port windows.Handle, entries []overlappedEntry, ms uint32, removed *uint32) (int, error) {
	if err := procGetQueuedCompletionStatusEx.Find(); err != nil {
		return 0, err
	}
	// SyscallN directly: see ntCall.
	r, _, err := syscall.SyscallN(procGetQueuedCompletionStatusEx.Addr(), uintptr(port),
		uintptr(unsafe.Pointer(&entries[0])), uintptr(len(entries)), uintptr(unsafe.Pointer(removed)), uintptr(ms), 0)
	if r == 0 {
		return 0, err
	}
	return int(*removed), nil
}
