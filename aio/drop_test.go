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
