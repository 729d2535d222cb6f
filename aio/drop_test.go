package aio

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/leakcheck"
)

// wakeChan is a waker that a goroutine can wait on.
type wakeChan chan struct{}

func (c wakeChan) Wake() {
	select {
	case c <- struct{}{}:
	default:
	}
}

// readAllDropping reads r to io.EOF, but abandons about half of the reads
// that have to wait (Drop) and starts a new one with a new waker, as a
// timeout or a select would. It returns what it read.
func readAllDropping(r Reader, chunk int, rng *rand.Rand) ([]byte, error) {
	var out []byte
	buf := make([]byte, chunk)
	for {
		c := make(wakeChan, 1)
		cx := future.NewContext(future.NewWaker(c), nil)
		f := Read(r, buf)
		for {
			v, ok := f.Poll(cx).Value()
			if ok {
				if v.Err == io.EOF {
					return out, nil
				}
				if v.Err != nil {
					return out, v.Err
				}
				out = append(out, buf[:v.Value]...)
				break
			}
			if rng.IntN(2) == 0 {
				f.Drop()
				break
			}
			<-c
		}
	}
}

// TestRandomDropsLoseNothing moves 1 MiB through streams whose reader drops
// pending reads at random: every byte arrives once, in order, and no drop
// leaves the stream busy.
func TestRandomDropsLoseNothing(t *testing.T) {
	leakcheck.Check(t)
	data := pattern(mib)
	for _, tc := range []struct {
		name string
		make func(t *testing.T) (Reader, func())
	}{
		{"fake", func(t *testing.T) (Reader, func()) {
			s := newFake(70, 0.3, 700)
			s.feed(data)
			s.end(io.EOF)
			return s, s.wait
		}},
		{"pipe", func(t *testing.T) (Reader, func()) {
			pr, pw, _ := Pipe(333)
			done := make(chan struct{})
			go func() {
				defer close(done)
				future.BlockOn[future.Result[int]](WriteAll(pw, data))
				pw.Close()
			}()
			return pr, func() { <-done }
		}},
		{"bufreader", func(t *testing.T) (Reader, func()) {
			s := newFake(71, 0.3, 300)
			s.feed(data)
			s.end(io.EOF)
			return mustBufReader(t, s, 100), s.wait
		}},
		{"readbridge", func(t *testing.T) (Reader, func()) {
			pr, pw := io.Pipe()
			go func() {
				_, _ = pw.Write(data)
				pw.Close()
			}()
			rb, _ := FromReader(pr, 500)
			return rb, func() { rb.Close() }
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, done := tc.make(t)
			got, err := readAllDropping(r, 256, rand.New(rand.NewPCG(7, 7)))
			done()
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("read %d bytes, %v; or they differ", len(got), err)
			}
		})
	}
}

// writeAllDropping writes data to w, abandoning about half of the WriteAlls
// that have to wait and going on from what N says they wrote, then flushes.
func writeAllDropping(w Writer, data []byte, rng *rand.Rand) error {
	for off := 0; off < len(data); {
		c := make(wakeChan, 1)
		cx := future.NewContext(future.NewWaker(c), nil)
		f := WriteAll(w, data[off:min(off+1000, len(data))])
		for {
			v, ok := f.Poll(cx).Value()
			if ok {
				if v.Err != nil {
					return v.Err
				}
				off += v.Value
				break
			}
			if rng.IntN(2) == 0 {
				f.Drop()
				off += f.N()
				break
			}
			<-c
		}
	}
	return future.BlockOn[future.Result[struct{}]](Flush(w)).Err
}

// TestRandomWriteDropsLoseNothing is the writing side: WriteAlls dropped at
// random, resumed from N, deliver every byte once, in order.
func TestRandomWriteDropsLoseNothing(t *testing.T) {
	leakcheck.Check(t)
	data := pattern(mib)
	for _, tc := range []struct {
		name string
		// make returns the writer, and a function that closes it and
		// returns what reached its destination.
		make func(t *testing.T) (Writer, func() []byte)
	}{
		{"fake", func(t *testing.T) (Writer, func() []byte) {
			s := newFake(72, 0.3, 700)
			return s, func() []byte { s.wait(); return s.written() }
		}},
		{"pipe", func(t *testing.T) (Writer, func() []byte) {
			pr, pw, _ := Pipe(333)
			got := make(chan []byte, 1)
			go func() {
				b, _ := readAllErr(pr, 100)
				got <- b
			}()
			return pw, func() []byte { pw.Close(); return <-got }
		}},
		{"bufwriter", func(t *testing.T) (Writer, func() []byte) {
			s := newFake(73, 0.3, 300)
			return mustBufWriter(t, s, 100), func() []byte { s.wait(); return s.written() }
		}},
		{"writebridge", func(t *testing.T) (Writer, func() []byte) {
			var out bytes.Buffer
			wb, _ := FromWriter(&out, 500)
			return wb, func() []byte { wb.Close(); return out.Bytes() }
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, finish := tc.make(t)
			err := writeAllDropping(w, data, rand.New(rand.NewPCG(9, 9)))
			got := finish()
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("delivered %d bytes, %v; or they differ", len(got), err)
			}
		})
	}
}
