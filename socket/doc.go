// Package socket provides TCP, UDP and Unix domain sockets, and a wrapper
// for any pollable descriptor, on libasync's reactor.
//
// Constructors are futures (Listen, Connect, Bind, ListenUnix, ConnectUnix,
// NewFD) that take the reactor from the executor polling them, so they need
// no runtime argument; the socket then belongs to that runtime, and polling
// it from another gives executor.ErrWrongRuntime. IP literals are parsed on
// the spot; host names are resolved by the standard library's resolver on a
// blocking goroutine (executor.SpawnBlocking), never on the executor.
//
// Streams implement aio's Reader, Writer, CloseWriter, ReadCanceler and
// WriteCanceler, so aio's helpers (Copy, ReadFull, BufReader, Split) work on
// them. Each direction has one pending slot: a second task reading (or
// writing) while one waits gets aio.ErrBusy; Split gives the two directions
// to two tasks. A read future dropped while pending consumes nothing.
//
// # Errors
//
// Errors are the standard library's: io.EOF at the end of a stream;
// *net.OpError wrapping *os.SyscallError wrapping the errno, so errors.Is
// finds syscall.ECONNREFUSED or syscall.ECONNRESET; an error wrapping
// net.ErrClosed for an operation pending at Close or started after it. Work
// cut short because the runtime shut down gives future.ErrClosed.
//
// # Close
//
// Close may be called from any goroutine while operations are pending: they
// complete with net.ErrClosed (their tasks are woken), the registration is
// removed, and the descriptor is closed exactly once, after the last system
// call in flight on it returned.
package socket
