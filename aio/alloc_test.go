package aio

import (
	"testing"

	"github.com/libasync/libasync/internal/leakcheck"
)

// TestZeroAllocPaths holds the promise of the package doc: futures held by
// value and Reset allocate nothing per operation.
func TestZeroAllocPaths(t *testing.T) {
	leakcheck.Check(t)
	cx := benchContext()
	src, dst := newReady(0), newReady(0)
	buf, cbuf := make([]byte, 64), make([]byte, 512)
	br, _ := NewBufReader(&readyStream{block: []byte("a line\n")}, 64)
	bw, _ := NewBufWriter(dst, 256)
	var (
		rf ReadFuture
		rl ReadLineFuture
		wa WriteAllFuture
		fl FlushFuture
		cp CopyFuture
	)
	limited := newReady(4096)
	for name, op := range map[string]func(){
		"Read":     func() { rf.Reset(src, buf); rf.Poll(cx) },
		"WriteAll": func() { wa.Reset(dst, buf); wa.Poll(cx) },
		"Copy":     func() { limited.rewind(); cp.Reset(dst, limited, cbuf); cp.Poll(cx) },
		"ReadLine": func() { rl.Reset(br); rl.Poll(cx) },
		"BufWrite": func() { wa.Reset(bw, buf); wa.Poll(cx); fl.Reset(bw); fl.Poll(cx) },
	} {
		if n := testing.AllocsPerRun(100, op); n != 0 {
			t.Errorf("%s: %v allocations per operation, want 0", name, n)
		}
	}
}
