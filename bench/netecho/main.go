// Command netecho is the peer of examples/echo: a TCP echo server on the
// standard library's net package, one goroutine per connection, each with a
// 4 KiB buffer, as Go servers are usually written.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"

	"github.com/libasync/libasync/bench/internal/process"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:7000", "address to listen on")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file, ended by SIGINT or SIGTERM")
	flag.Parse()
	if *cpuprofile != "" {
		if err := process.ProfileUntilSignal(*cpuprofile); err != nil {
			fmt.Fprintln(os.Stderr, "netecho:", err)
			os.Exit(1)
		}
	}
	process.RaiseFileLimit()
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "netecho:", err)
		os.Exit(1)
	}
	fmt.Printf("listening on %v\n", l.Addr())
	for {
		c, err := l.Accept()
		if err != nil {
			continue
		}
		go echo(c)
	}
}

// echo copies c to itself until it ends.
func echo(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		if _, err := c.Write(buf[:n]); err != nil {
			return
		}
	}
}
