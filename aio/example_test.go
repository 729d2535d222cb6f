package aio_test

import (
	"bytes"
	"fmt"
	"io"

	"github.com/libasync/libasync/aio"
	"github.com/libasync/libasync/executor"
	"github.com/libasync/libasync/future"
)

// A line protocol over an in-memory Duplex: a server task upper-cases each
// line it reads, a client writes two lines, half-closes, and reads the
// answers until io.EOF. Both run on one executor.Local.
func Example() {
	l, err := executor.NewLocal()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close()
	client, server, _ := aio.Duplex(64)

	sr, sw := aio.Split(server)
	_, err = executor.Spawn(l, future.Async(func(a *future.Awaiter) error {
		lines, _ := aio.NewBufReader(sr, 0)
		for {
			line := future.Await(a, lines.ReadLine())
			if line.Err == io.EOF {
				return future.Await(a, aio.CloseWrite(sw)).Err
			}
			if line.Err != nil {
				return line.Err
			}
			answer := append(bytes.ToUpper(line.Value), '\n')
			if w := future.Await(a, aio.WriteAll(sw, answer)); w.Err != nil {
				return w.Err
			}
		}
	}))
	if err != nil {
		fmt.Println(err)
		return
	}

	_, err = executor.BlockOn(l, future.Async(func(a *future.Awaiter) struct{} {
		future.Await(a, aio.WriteAll(client, []byte("hello\nasync world\n")))
		future.Await(a, aio.CloseWrite(client))
		answers, _ := aio.NewBufReader(client, 0)
		for {
			line := future.Await(a, answers.ReadLine())
			if line.Err != nil {
				fmt.Println("end:", line.Err)
				return struct{}{}
			}
			fmt.Printf("%s\n", line.Value)
		}
	}))
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// HELLO
	// ASYNC WORLD
	// end: EOF
}

// echo is a hand-written future that sends a stream's bytes back to it until
// io.EOF. It holds its read and write futures by value and Resets them, so
// that it allocates nothing per read or write: the shape for servers that
// count connections in the hundreds of thousands.
type echo struct {
	rw    aio.ReadWriter
	buf   [512]byte
	read  aio.ReadFuture
	write aio.WriteAllFuture
	state int // 0: start a read, 1: reading, 2: writing
	total int
}

func (e *echo) Poll(cx *future.Context) future.Poll[future.Result[int]] {
	for {
		switch e.state {
		case 0:
			e.read.Reset(e.rw, e.buf[:])
			e.state = 1
		case 1:
			r, ok := e.read.Poll(cx).Value()
			switch {
			case !ok:
				return future.Pending[future.Result[int]]()
			case r.Err == io.EOF:
				return future.Ready(future.Ok(e.total))
			case r.Err != nil:
				return future.Ready(future.Fail[int](r.Err))
			}
			e.write.Reset(e.rw, e.buf[:r.Value])
			e.state = 2
		case 2:
			w, ok := e.write.Poll(cx).Value()
			if !ok {
				return future.Pending[future.Result[int]]()
			}
			if w.Err != nil {
				return future.Ready(future.Fail[int](w.Err))
			}
			e.total += w.Value
			e.state = 0
		}
	}
}

// Drop withdraws the read or write in progress.
func (e *echo) Drop() {
	switch e.state {
	case 1:
		e.read.Drop()
	case 2:
		e.write.Drop()
	}
}

// A state machine that holds aio futures by value (see the echo type).
func ExampleReadFuture_Reset() {
	l, err := executor.NewLocal()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close()
	client, server, _ := aio.Duplex(16)
	handle, err := executor.Spawn(l, future.Future[future.Result[int]](&echo{rw: server}))
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = executor.BlockOn(l, future.Async(func(a *future.Awaiter) struct{} {
		future.Await(a, aio.WriteAll(client, []byte("ping pong")))
		future.Await(a, aio.CloseWrite(client))
		got := make([]byte, 9)
		future.Await(a, aio.ReadFull(client, got))
		echoed := future.Await(a, future.Future[future.Result[future.Result[int]]](handle))
		fmt.Printf("%s: %d bytes echoed\n", got, echoed.Value.Value)
		return struct{}{}
	}))
	if err != nil {
		fmt.Println(err)
	}
	// Output: ping pong: 9 bytes echoed
}
