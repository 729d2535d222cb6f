package tasksync

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/libasync/libasync/future"
	"github.com/libasync/libasync/internal/leakcheck"
)

// firstChild returns the head of t's list of children (nil when it has
// none) and whether a second one follows it.
func (t *CancellationToken) firstChild() (*CancellationToken, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.children, t.children != nil && t.children.next != nil
}

func TestCancellationToken(t *testing.T) {
	leakcheck.Check(t)
	root := NewCancellationToken()
	child, other := root.Child(), root.Child()
	grandchild := child.Child()
	w := &wakeCounter{}
	f := grandchild.Cancelled()
	mustPending(t, f, w)

	// A child cancelled alone leaves its parent and siblings alone, and
	// leaves its parent's list.
	other.Cancel()
	if first, more := root.firstChild(); root.IsCancelled() || child.IsCancelled() || first != child || more {
		t.Fatalf("cancelling a child: root %v, sibling %v, or the child still listed", root.IsCancelled(), child.IsCancelled())
	}

	root.Cancel()
	root.Cancel()
	for _, tok := range []*CancellationToken{root, child, grandchild} {
		if !tok.IsCancelled() {
			t.Fatal("a descendant was not cancelled with the root")
		}
	}
	if w.Count() != 1 {
		t.Fatalf("%d wakes, want 1", w.Count())
	}
	mustReady[struct{}](t, f, w)
	mustReady[struct{}](t, root.Cancelled(), w)
	f.Drop() // after Ready: harmless
	for _, tok := range []*CancellationToken{root, child} {
		if first, _ := tok.firstChild(); first != nil {
			t.Fatal("a cancelled token still lists children")
		}
	}
	if late := root.Child(); !late.IsCancelled() {
		t.Fatal("a child of a cancelled token is not cancelled")
	}
}

func TestCancelledDrop(t *testing.T) {
	leakcheck.Check(t)
	tok := NewCancellationToken()
	f := tok.Cancelled()
	mustPending(t, f, &wakeCounter{})
	f.Drop()
	tok.mu.Lock()
	empty := tok.waiters.Front() == nil
	tok.mu.Unlock()
	if !empty {
		t.Fatal("a dropped Cancelled future is still queued")
	}
	tok.Cancel()
}

func TestTokenContext(t *testing.T) {
	leakcheck.Check(t)
	tok := NewCancellationToken()
	ctx := tok.Context()
	if ctx != tok.Context() {
		t.Fatal("Context made a second context")
	}
	if ctx.Err() != nil {
		t.Fatal("done before Cancel")
	}
	tok.Child().Cancel() // a child's cancel does not reach the parent's context
	if ctx.Err() != nil {
		t.Fatal("done after a child's Cancel")
	}
	tok.Cancel()
	<-ctx.Done()
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatalf("Err = %v", ctx.Err())
	}
	if err := tok.Child().Context().Err(); !errors.Is(err, context.Canceled) {
		t.Fatalf("the context of a token cancelled before it was made: %v", err)
	}
}

type ctxKey struct{}

func TestTokenFromContext(t *testing.T) {
	leakcheck.Check(t)
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "v"))
	tok := TokenFromContext(parent)
	child := tok.Child()
	if v := child.Context().Value(ctxKey{}); v != "v" {
		t.Fatalf("the child's context lost the parent context's value: %v", v)
	}
	cancel()
	// AfterFunc cancels the token on a goroutine of its own; wait for it
	// through the future.
	future.BlockOn[struct{}](child.Cancelled())
	if !tok.IsCancelled() {
		t.Fatal("the token was not cancelled with its context")
	}

	done, cancelDone := context.WithCancel(context.Background())
	cancelDone()
	if !TokenFromContext(done).IsCancelled() {
		t.Fatal("a token from a done context is not cancelled at once")
	}
	if tok := TokenFromContext(context.Background()); tok.IsCancelled() || tok.Context().Done() == nil {
		t.Fatal("a token from a context that is never done")
	}

	// Cancelling the token first ends its registration with the context:
	// the context's end then finds nothing to run.
	live, cancelLive := context.WithCancel(context.Background())
	defer cancelLive()
	tok = TokenFromContext(live)
	tok.mu.Lock()
	stop := tok.stop
	tok.mu.Unlock()
	tok.Cancel()
	if stop() {
		t.Fatal("the AfterFunc registration outlived the token's Cancel")
	}
	if live.Err() != nil {
		t.Fatal("cancelling the token cancelled the context it came from")
	}
}

// TestTokenDeadline: a token's context carries the deadline of the
// context the token came from, and ends with its error.
func TestTokenDeadline(t *testing.T) {
	leakcheck.Check(t)
	parent, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	ctx := TokenFromContext(parent).Context()
	if _, ok := ctx.Deadline(); !ok || !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("deadline %v, err %v", ok, ctx.Err())
	}
}

// TestTokenStress: tasks on the Runtime wait on the Cancelled futures of
// random tokens of a tree, with chaos dropping their waits, while
// goroutines grow the tree, cancel random inner nodes and read their
// contexts; once the root is cancelled every task finishes and every token
// is cancelled, with no children left registered.
func TestTokenStress(t *testing.T) {
	leakcheck.Check(t)
	const tasks, nodes = 64, 200
	base := seed(t)
	shape := rand.New(rand.NewPCG(base, 0))
	root := NewCancellationToken()
	tree := []*CancellationToken{root}
	for i := 1; i < nodes; i++ {
		tree = append(tree, tree[shape.IntN(len(tree))].Child())
	}
	var started, mutators, canceller sync.WaitGroup
	started.Add(tasks)
	for g := range 4 {
		mutators.Go(func() {
			started.Wait() // every task waits or is about to
			rng := rand.New(rand.NewPCG(base, uint64(1000+g)))
			for range 100 {
				tok := tree[1+rng.IntN(nodes-1)]
				switch rng.IntN(3) {
				case 0:
					tok.Cancel()
				case 1:
					tok.Child().Cancel()
				default:
					tok.Context()
				}
			}
		})
	}
	canceller.Go(func() {
		mutators.Wait()
		root.Cancel()
	})
	runTasks(t, 2, tasks, func(i int) future.Future[struct{}] {
		return future.Async(func(a *future.Awaiter) struct{} {
			rng := rand.New(rand.NewPCG(base, uint64(i)))
			tok := tree[rng.IntN(nodes)]
			started.Done()
			for {
				if _, ok := maybeDropped[struct{}](a, rng, tok.Cancelled()); ok {
					break
				}
			}
			if !tok.IsCancelled() {
				t.Error("Cancelled was Ready for a token that is not")
			}
			return struct{}{}
		})
	})
	canceller.Wait() // the tasks may all be done while the root's Cancel still walks the tree
	for _, tok := range tree {
		if first, _ := tok.firstChild(); !tok.IsCancelled() || first != nil || tok.Context().Err() == nil {
			t.Fatal("a token was left uncancelled, with children, or with a live context")
		}
	}
}
