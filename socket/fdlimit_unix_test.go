//go:build unix

package socket

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/libasync/libasync/aio"
	"github.com/libasync/libasync/executor"
	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/leakcheck"
	"golang.org/x/sys/unix"
)

// fdLimitChild is set in the environment of the process that
// TestDescriptorLimit starts.
const fdLimitChild = "LIBASYNC_FDLIMIT_CHILD"

// TestDescriptorLimit runs itself in a fresh process under a soft
// RLIMIT_NOFILE of 64: it connects until a Connect or an Accept fails with
// EMFILE, arms a Go timer at the limit, then closes the streams and echoes
// over a new connection. A fresh process, because in this one the testing
// package's own timers opened the Go runtime's poller long ago; without
// -test.timeout the child arms none, so the timer at the limit would be its
// first and abort the child had package executor not opened the poller.
func TestDescriptorLimit(t *testing.T) {
	if os.Getenv(fdLimitChild) == "1" {
		descriptorLimitChild(t)
		return
	}
	leakcheck.Check(t)
	// A guard against a hung child only: it normally ends in well under a second.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestDescriptorLimit$", "-test.timeout=0", "-test.v")
	cmd.Env = append(os.Environ(), fdLimitChild+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestDescriptorLimit") {
		t.Fatalf("the child under a descriptor limit failed (%v):\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if _, report, ok := strings.Cut(line, "fdlimit: "); ok {
			t.Log("child: " + report)
		}
	}
}

// descriptorLimitChild is TestDescriptorLimit in the child process.
func descriptorLimitChild(t *testing.T) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	lim.Cur = 64
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	ex, err := executor.NewLocal()
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Close()
	run(t, ex, func(a *future.Awaiter) {
		l := must(t, a, Listen("127.0.0.1:0"))
		var streams []*Stream
		var limitErr error
		for limitErr == nil && len(streams) < 200 {
			c := future.Await(a, Connect(l.Addr().String()))
			if limitErr = c.Err; limitErr != nil {
				break
			}
			streams = append(streams, c.Value)
			s := future.Await(a, l.Accept())
			if limitErr = s.Err; limitErr == nil {
				streams = append(streams, s.Value)
			}
		}
		if !errors.Is(limitErr, syscall.EMFILE) {
			t.Fatalf("after %d streams: got %v, want an error wrapping EMFILE", len(streams), limitErr)
		}
		t.Logf("fdlimit: %d streams open, then %v", len(streams), limitErr)
		time.Sleep(time.Millisecond) // the timer that would open the Go runtime's poller
		for _, s := range streams {
			s.Close()
		}
		l.Close()

		_, client, server := pair(t, a, ex, "127.0.0.1:0")
		if w := future.Await(a, aio.WriteAll(client, []byte("again"))); w.Err != nil {
			t.Fatalf("write after the limit: %v", w.Err)
		}
		buf := make([]byte, 5)
		if r := future.Await(a, aio.ReadFull(server, buf)); r.Err != nil || string(buf) != "again" {
			t.Fatalf("read after the limit: %q, %v", buf, r.Err)
		}
		t.Logf("fdlimit: served again once descriptors were free")
	})
}
