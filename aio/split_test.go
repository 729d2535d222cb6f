package aio

import (
	"bytes"
	"io"
	"sync"
	"testing"

	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/leakcheck"
)

func TestSplitHalvesInTwoGoroutines(t *testing.T) {
	leakcheck.Check(t)
	s := newFake(40, 0.1, 500)
	defer s.wait()
	rh, wh := Split(s)
	out := pattern(mib)
	in := pattern(mib / 2)
	var wg sync.WaitGroup
	var wres future.Result[int]
	var got []byte
	var rerr error
	wg.Add(3)
	go func() {
		defer wg.Done()
		wres = future.BlockOn[future.Result[int]](WriteAll(wh, out))
	}()
	go func() {
		defer wg.Done()
		got, rerr = readAllErr(rh, 1000)
	}()
	go func() {
		// The peer sends in pieces while both halves are busy.
		defer wg.Done()
		for off := 0; off < len(in); off += 4096 {
			s.feed(in[off : off+4096])
		}
		s.end(io.EOF)
	}()
	wg.Wait()
	if wres.Err != nil || wres.Value != len(out) || !bytes.Equal(s.written(), out) {
		t.Fatalf("write half: %v, %v; sink differs: %v", wres.Value, wres.Err, !bytes.Equal(s.written(), out))
	}
	if rerr != nil || !bytes.Equal(got, in) {
		t.Fatalf("read half got %d bytes, or they differ; %v", len(got), rerr)
	}
	if r := future.BlockOn[future.Result[struct{}]](Flush(wh)); r.Err != nil {
		t.Fatal(r.Err)
	}
	if r := future.BlockOn[future.Result[struct{}]](CloseWrite(wh)); r.Err != nil || !s.closedW {
		t.Fatalf("CloseWrite through the write half: %v", r.Err)
	}
	rw, err := rh.Reunite(wh)
	if err != nil || rw != ReadWriter(s) {
		t.Fatalf("Reunite = %v, %v", rw, err)
	}
	_, wh2 := Split(s)
	if _, err := rh.Reunite(wh2); err != ErrNotSameStream {
		t.Fatalf("Reunite with a foreign half: %v", err)
	}
}

// plainRW is a stream that neither flushes nor half-closes.
type plainRW struct {
	zeroReader
	zeroWriter
}

func TestSplitOverPlainStream(t *testing.T) {
	leakcheck.Check(t)
	_, wh := Split(plainRW{})
	if r := future.BlockOn[future.Result[struct{}]](Flush(wh)); r.Err != nil {
		t.Fatalf("Flush over a non-Flusher: %v", r.Err)
	}
	if r := future.BlockOn[future.Result[struct{}]](CloseWrite(wh)); r.Err != ErrNotSupported {
		t.Fatalf("CloseWrite over a non-CloseWriter: %v", r.Err)
	}
}

func TestSplitDroppedReadFreesHalf(t *testing.T) {
	leakcheck.Check(t)
	s := newFake(41, 0, 0)
	rh, _ := Split(s)
	var a counter
	f := Read(rh, make([]byte, 4))
	if pollOnce[future.Result[int]](f, future.NewWaker(&a)).IsReady() {
		t.Fatal("ready on an empty stream")
	}
	f.Drop()
	s.feed([]byte("data"))
	buf := make([]byte, 4)
	if r := future.BlockOn[future.Result[int]](ReadFull(rh, buf)); r.Err != nil || string(buf) != "data" {
		t.Fatalf("read after the drop: %q, %v", buf, r.Err)
	}
}
