//go:build (linux || darwin || netbsd || windows) && (amd64 || arm64) && cgo

package main

/*
#include "shim.h"
*/
import "C"

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"
	"unsafe"

	"github.com/libasync/libasync/aio"
	"github.com/libasync/libasync/capi/ffi"
	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/socket"
)

// listenerObj is the object behind a KindListener handle.
type listenerObj struct {
	rt *runtimeObj
	l  *socket.Listener

	mu        sync.Mutex
	accepting bool // an accept future is pending

	// acceptWaker holds the waker of the last async_tcp_poll_accept.
	acceptWaker ffi.HostWaker
}

func (l *listenerObj) dropWakers() { l.acceptWaker.Clear() }

func (l *listenerObj) runtime() *runtimeObj { return l.rt }

func (l *listenerObj) close() error { return l.l.Close() }

// streamObj is the object behind a KindStream handle.
type streamObj struct {
	rt *runtimeObj
	s  *socket.Stream

	mu          sync.Mutex
	reading     bool // a read future is pending (until done or freed)
	writing     bool // a write future is pending (until done or freed)
	writeBroken bool // a write was cancelled part-way

	// readWaker and writeWaker hold the wakers of the last
	// async_stream_poll_read and async_stream_poll_write.
	readWaker, writeWaker ffi.HostWaker
}

func (s *streamObj) dropWakers() {
	s.readWaker.Clear()
	s.writeWaker.Clear()
}

func (s *streamObj) runtime() *runtimeObj { return s.rt }

func (s *streamObj) close() error { return s.s.Close() }

// socketKinds are the kinds of handles that async_close closes.
var socketKinds = map[ffi.Kind]bool{ffi.KindListener: true, ffi.KindStream: true, ffi.KindWatch: true}

// lookupSocket returns the object of h, a handle of one of socketKinds
// (what names them in errors).
func lookupSocket(h C.uint64_t, what string) (socketObj, error) {
	k := ffi.Handle(h).Kind()
	if h != 0 && !socketKinds[k] {
		return nil, ffi.Errorf(ffi.EINVAL, "libasync: handle %#x is not a %s", uint64(h), what)
	}
	return lookup[socketObj](h, k, what)
}

// liveStream returns the stream of h, failing with ECLOSED once its
// runtime closed.
func liveStream(h C.uint64_t) (*streamObj, error) {
	s, err := lookup[*streamObj](h, ffi.KindStream, "stream")
	if err != nil {
		return nil, err
	}
	if s.rt.isClosed() {
		return nil, errRuntimeClosed
	}
	return s, nil
}

// resolveHost turns "host:port" into an address with an IP literal,
// looking a name up on the calling thread (never on a worker: a name given
// from a runtime thread is refused).
func resolveHost(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", ffi.Errorf(ffi.EINVAL, "libasync: malformed address %q: %v", addr, err)
	}
	if host == "" {
		return addr, nil
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return addr, nil
	}
	if inHost() {
		return "", ffi.Errorf(ffi.EINVAL, "libasync: %q needs a name lookup, which would block a runtime thread; give an IP literal there", addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return "", &ffi.Error{Code: ffi.EIO, Msg: "libasync: resolving " + addr + ": " + errString(err), Errno: ffi.ErrnoOf(err)}
	}
	best := ips[0]
	for _, ip := range ips {
		if ip.Is4() || ip.Is4In6() {
			best = ip.Unmap()
			break
		}
	}
	return net.JoinHostPort(best.String(), port), nil
}

func errString(err error) string {
	if err == nil {
		return "no address"
	}
	return err.Error()
}

// async_tcp_listen opens a TCP listener.
//
//export async_tcp_listen
func async_tcp_listen(rt C.uint64_t, addr *C.char, out *C.uint64_t) (rc C.int32_t) {
	defer guard(&rc)
	r, err := lookupRuntime(rt)
	if err != nil {
		return fail(err)
	}
	if addr == nil || out == nil {
		return failf(ffi.EINVAL, "libasync: async_tcp_listen: addr or out is NULL")
	}
	a, err := resolveHost(C.GoString(addr))
	if err != nil {
		return fail(err)
	}
	return listenNow(r, socket.Listen(a), a, out)
}

// listenNow opens a listener with one poll of f (an address that needs no
// lookup opens at once), lending r's services (its reactor) on the calling
// thread, and gives it a handle in *out.
func listenNow(r *runtimeObj, f future.Future[future.Result[*socket.Listener]], addr string, out *C.uint64_t) C.int32_t {
	cx := future.NewContext(future.NoopWaker(), r.ex)
	res, ok := f.Poll(cx).Value()
	if !ok {
		future.Drop(f)
		return failf(ffi.EIO, "libasync: listening on %s did not open at once", addr)
	}
	if res.Err != nil {
		return fail(ioError(res.Err))
	}
	lo := &listenerObj{rt: r, l: res.Value}
	h, err := ffi.Handles.Insert(ffi.KindListener, lo)
	if err != nil {
		res.Value.Close()
		return fail(err)
	}
	r.addSocket(lo)
	*out = C.uint64_t(h)
	return C.int32_t(ffi.OK)
}

// ioError maps a socket error to the ABI's codes: resultOf's, and a
// closed socket's ECLOSED.
func ioError(err error) *ffi.Error {
	switch {
	case errors.Is(err, net.ErrClosed):
		return ffi.Errorf(ffi.ECLOSED, "libasync: %v", err)
	case errors.Is(err, socket.ErrNotSupported):
		return ffi.Errorf(ffi.ENOTSUP, "libasync: %v", err)
	}
	r := resultOf(0, err)
	return &ffi.Error{Code: r.code, Msg: r.msg, Errno: r.errno}
}

// ioResult is resultOf for socket outcomes.
func ioResult(v uint64, err error) result {
	if err == nil {
		return result{code: ffi.OK, val: v}
	}
	e := ioError(err)
	return result{code: e.Code, msg: e.Msg, errno: e.Errno}
}

// async_tcp_local_addr writes the local address of a listener or stream.
//
//export async_tcp_local_addr
func async_tcp_local_addr(h C.uint64_t, buf *C.char, n C.size_t) (rc C.int32_t) {
	defer guard(&rc)
	obj, err := lookupSocket(h, "listener or stream")
	if err != nil {
		return fail(err)
	}
	if obj.runtime().isClosed() {
		return fail(errRuntimeClosed)
	}
	var a net.Addr
	switch o := obj.(type) {
	case *listenerObj:
		a = o.l.Addr()
	case *streamObj:
		a = o.s.LocalAddr()
	default:
		return failf(ffi.EINVAL, "libasync: handle %#x is not a listener or stream", uint64(h))
	}
	if a == nil {
		return failf(ffi.EIO, "libasync: the socket has no local address")
	}
	return writeString(buf, n, a.String())
}

// streamResult is the outcome of an accept or connect: the new stream's
// handle, or the error (a stream that gets no handle is closed).
func streamResult(r *runtimeObj, v future.Result[*socket.Stream]) result {
	if v.Err != nil {
		return ioResult(0, v.Err)
	}
	so := &streamObj{rt: r, s: v.Value}
	h, err := ffi.Handles.Insert(ffi.KindStream, so)
	if err != nil {
		v.Value.Close()
		return resultOf(0, err)
	}
	r.addSocket(so)
	return result{code: ffi.OK, val: uint64(h)}
}

// dropStream closes the stream of a handle that an accept or connect
// produced but whose future was freed before the host saw it.
func dropStream(res result) {
	if res.code != ffi.OK {
		return
	}
	if obj, ok := ffi.Handles.Remove(ffi.Handle(res.val)); ok {
		s := obj.(*streamObj)
		s.s.Close()
		s.rt.removeSocket(s)
	}
}

// async_tcp_accept returns a future of the next connection.
//
//export async_tcp_accept
func async_tcp_accept(lh C.uint64_t, out *C.uint64_t) (rc C.int32_t) {
	defer guard(&rc)
	l, err := lookup[*listenerObj](lh, ffi.KindListener, "listener")
	if err != nil {
		return fail(err)
	}
	if out == nil {
		return failf(ffi.EINVAL, "libasync: async_tcp_accept: out is NULL")
	}
	l.mu.Lock()
	busy := l.accepting
	l.accepting = true
	l.mu.Unlock()
	if busy {
		return failf(ffi.EINVAL, "libasync: async_tcp_accept: an accept is already pending on this listener")
	}
	idle := func(result) {
		l.mu.Lock()
		l.accepting = false
		l.mu.Unlock()
	}
	o, err := newFuture(l.rt)
	if err != nil {
		idle(result{})
		return fail(err)
	}
	o.onDone(idle)
	o.release = func(observed bool) {
		if r, ok := o.peek(); ok && !observed {
			dropStream(r)
		}
		idle(result{})
	}
	conv := func(v future.Result[*socket.Stream]) result {
		// Idle before the outcome is visible: a host that saw it may
		// accept again at once.
		idle(result{})
		return streamResult(l.rt, v)
	}
	if err := startFuture(o, l.l.Accept(), conv); err != nil {
		o.free(false)
		return fail(err)
	}
	return publish(o, out)
}

// async_tcp_connect returns a future of a connected stream.
//
//export async_tcp_connect
func async_tcp_connect(rt C.uint64_t, addr *C.char, out *C.uint64_t) (rc C.int32_t) {
	defer guard(&rc)
	r, err := lookupRuntime(rt)
	if err != nil {
		return fail(err)
	}
	if addr == nil || out == nil {
		return failf(ffi.EINVAL, "libasync: async_tcp_connect: addr or out is NULL")
	}
	a := C.GoString(addr)
	if _, _, err := net.SplitHostPort(a); err != nil {
		return failf(ffi.EINVAL, "libasync: malformed address %q: %v", a, err)
	}
	// The connect resolves names on a blocking goroutine, off the workers.
	return connectFuture(r, socket.Connect(a), out)
}

// connectFuture runs the connect cf as a runtime future whose outcome is
// a stream handle, and gives the future a handle in *out.
func connectFuture(r *runtimeObj, cf *socket.ConnectFuture, out *C.uint64_t) C.int32_t {
	o, err := newFuture(r)
	if err != nil {
		cf.Drop()
		return fail(err)
	}
	o.release = func(observed bool) {
		if res, ok := o.peek(); ok && !observed {
			dropStream(res)
		}
	}
	conv := func(v future.Result[*socket.Stream]) result { return streamResult(r, v) }
	if err := startFuture(o, cf, conv); err != nil {
		o.free(false)
		return fail(err)
	}
	return publish(o, out)
}

// hostBuf guards a host buffer, which a read or write future touches only
// while holding mu, and never after stop: freeing the future stops it, so that
// async_future_free returns only when the buffer is no longer touched. It
// records, under the same lock, whether the operation finished and its
// outcome, so that a free racing the completion sees one or the other,
// never neither.
type hostBuf struct {
	mu       sync.Mutex
	stopped  bool
	finished bool
	res      future.Result[int] // the outcome, once finished
}

// stop ends the buffer's use and reports whether the operation finished.
func (b *hostBuf) stop() (finished bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stopped = true
	return b.finished
}

// guarded polls f while holding b's lock, unless b was stopped.
type guarded struct {
	b *hostBuf
	f bufOp
}

func (g *guarded) Poll(cx *future.Context) future.Poll[future.Result[int]] {
	g.b.mu.Lock()
	defer g.b.mu.Unlock()
	switch {
	case g.b.finished:
		// Polled again by a thread that raced the completing poll: the
		// inner future is never polled after it was ready.
		return future.Ready(g.b.res)
	case g.b.stopped:
		return future.Ready(future.Fail[int](net.ErrClosed))
	}
	p := g.f.Poll(cx)
	if r, ok := p.Value(); ok {
		g.b.finished, g.b.res = true, r
	}
	return p
}

func (g *guarded) Drop() {
	g.b.mu.Lock()
	defer g.b.mu.Unlock()
	g.f.Drop()
}

// hostBytes views the host's buffer.
func hostBytes(buf unsafe.Pointer, n C.size_t) []byte {
	return unsafe.Slice((*byte)(buf), int(n))
}

// checkBuf validates a buffer argument; outNil says the output pointer is
// NULL.
func checkBuf(name string, buf unsafe.Pointer, n C.size_t, outNil bool) error {
	switch {
	case buf == nil || outNil:
		return ffi.Errorf(ffi.EINVAL, "libasync: %s: buf or out is NULL", name)
	case n == 0:
		return ffi.Errorf(ffi.EINVAL, "libasync: %s: len is 0", name)
	case uint64(n) > 1<<47:
		return ffi.Errorf(ffi.EINVAL, "libasync: %s: len %d is beyond any buffer", name, uint64(n))
	}
	return nil
}

// async_read returns a future that reads into buf.
//
//export async_read
func async_read(sh C.uint64_t, buf unsafe.Pointer, n C.size_t, out *C.uint64_t) (rc C.int32_t) {
	defer guard(&rc)
	s, err := liveStream(sh)
	if err != nil {
		return fail(err)
	}
	if err := checkBuf("async_read", buf, n, out == nil); err != nil {
		return fail(err)
	}
	s.mu.Lock()
	if s.reading {
		s.mu.Unlock()
		return failf(ffi.EINVAL, "libasync: async_read: a read is already pending on this stream")
	}
	s.reading = true
	s.mu.Unlock()
	idle := func(result) {
		s.mu.Lock()
		s.reading = false
		s.mu.Unlock()
	}
	// A read is cold: it takes bytes only inside a poll (of the future,
	// or of a timeout that owns it), on the polling thread, so a read
	// freed before it completed has consumed nothing.
	conv := func(v future.Result[int]) result {
		if errors.Is(v.Err, io.EOF) {
			return result{code: ffi.OK}
		}
		return ioResult(uint64(v.Value), v.Err)
	}
	return coldBufFuture(s.rt, aio.Read(s.s, hostBytes(buf, n)), idle, conv, out)
}

// bufOp is an operation on a host buffer: a read, a write, a datagram's
// send or receive.
type bufOp interface {
	future.Future[future.Result[int]]
	future.Dropper
}

// coldBufFuture publishes a cold future of f, which touches a host buffer
// only inside polls of the future, under a hostBuf: freed unfinished, it
// has consumed nothing and touches the buffer no more. idle runs once the
// operation is over (before its outcome is visible, so that a host that
// saw it may start the next at once) or freed; conv maps its outcome.
func coldBufFuture(rt *runtimeObj, f bufOp, idle func(result), conv func(future.Result[int]) result, out *C.uint64_t) C.int32_t {
	o, err := newFuture(rt)
	if err != nil {
		idle(result{})
		return fail(err)
	}
	hb := new(hostBuf)
	rf := &guarded{b: hb, f: f}
	o.drive = func(cx *future.Context) (result, bool) {
		v, ok := rf.Poll(cx).Value()
		if !ok {
			return result{}, false
		}
		idle(result{})
		return conv(v), true
	}
	o.onDone(idle)
	o.release = func(bool) {
		rf.Drop() // withdraws a pending wait; consumes nothing
		hb.stop()
		idle(result{})
	}
	return publish(o, out)
}

// hotBufFuture publishes a hot future of f, which runs as a task and
// touches a host buffer only under a hostBuf, so that freeing the future
// stops it. idle is as for coldBufFuture; cut runs instead when the
// future is freed before the operation finished.
func hotBufFuture(rt *runtimeObj, f bufOp, idle func(result), cut func(), conv func(future.Result[int]) result, out *C.uint64_t) C.int32_t {
	o, err := newFuture(rt)
	if err != nil {
		idle(result{})
		return fail(err)
	}
	hb := new(hostBuf)
	o.onDone(idle)
	o.release = func(bool) {
		if !hb.stop() {
			cut()
		}
	}
	mapped := func(v future.Result[int]) result {
		idle(result{})
		return conv(v)
	}
	if err := startFuture(o, future.Future[future.Result[int]](&guarded{b: hb, f: f}), mapped); err != nil {
		o.free(false)
		return fail(err)
	}
	return publish(o, out)
}

// claimWrite marks the stream's write side busy for the caller (name), or
// fails: ECLOSED once a cancelled write broke it, EINVAL while a write is
// pending.
func (s *streamObj) claimWrite(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.writeBroken:
		return ffi.Errorf(ffi.ECLOSED, "libasync: %s: an earlier write was cancelled part-way, so the stream cannot be written any more", name)
	case s.writing:
		return ffi.Errorf(ffi.EINVAL, "libasync: %s: a write is already pending on this stream", name)
	}
	s.writing = true
	return nil
}

// endWrite marks the stream's write side idle again.
func (s *streamObj) endWrite() {
	s.mu.Lock()
	s.writing = false
	s.mu.Unlock()
}

// async_write returns a future that writes all of buf.
//
//export async_write
func async_write(sh C.uint64_t, buf unsafe.Pointer, n C.size_t, out *C.uint64_t) (rc C.int32_t) {
	defer guard(&rc)
	s, err := liveStream(sh)
	if err != nil {
		return fail(err)
	}
	if err := checkBuf("async_write", buf, n, out == nil); err != nil {
		return fail(err)
	}
	if err := s.claimWrite("async_write"); err != nil {
		return fail(err)
	}
	idle := func(result) { s.endWrite() }
	cut := func() {
		s.mu.Lock()
		s.writeBroken = true
		s.writing = false
		s.mu.Unlock()
	}
	conv := func(v future.Result[int]) result { return ioResult(uint64(v.Value), v.Err) }
	return hotBufFuture(s.rt, aio.WriteAll(s.s, hostBytes(buf, n)), idle, cut, conv, out)
}

// async_try_write writes what the stream takes at once, on the calling
// thread.
//
//export async_try_write
func async_try_write(sh C.uint64_t, buf unsafe.Pointer, n C.size_t, written *C.size_t) (rc C.int32_t) {
	defer guard(&rc)
	s, err := liveStream(sh)
	if err != nil {
		return fail(err)
	}
	if err := checkBuf("async_try_write", buf, n, written == nil); err != nil {
		return fail(err)
	}
	took, err := s.pollWrite("async_try_write", hostBytes(buf, n), nil)
	if err != nil {
		return fail(err)
	}
	if took == 0 {
		return C.int32_t(ffi.Pending)
	}
	*written = C.size_t(took)
	return C.int32_t(ffi.OK)
}

// async_shutdown_write half-closes a stream.
//
//export async_shutdown_write
func async_shutdown_write(sh C.uint64_t) (rc C.int32_t) {
	defer guard(&rc)
	s, err := liveStream(sh)
	if err != nil {
		return fail(err)
	}
	if err := s.s.ShutdownWrite(); err != nil {
		return fail(ioError(err))
	}
	return C.int32_t(ffi.OK)
}

// async_close closes a stream, listener or watch and releases its handle.
//
//export async_close
func async_close(h C.uint64_t) (rc C.int32_t) {
	defer guard(&rc)
	if _, err := lookupSocket(h, "listener, stream or watch"); err != nil {
		return fail(err)
	}
	obj, ok := ffi.Handles.Remove(ffi.Handle(h))
	if !ok {
		return failf(ffi.EINVAL, "libasync: handle %#x was closed already", uint64(h))
	}
	o := obj.(socketObj)
	err := o.close()
	o.runtime().removeSocket(o)
	// Closing a socket whose runtime closed is still a success: its
	// registration is gone, and the descriptor is closed now.
	if err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, future.ErrClosed) {
		return fail(ioError(err))
	}
	return C.int32_t(ffi.OK)
}
