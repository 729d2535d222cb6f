package future

import (
	"runtime"
	"sync"
	"testing"

	"github.com/libasync/libasync/internal/leakcheck"
)

func (n *Notify) waiting() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	k := 0
	for w := n.waiters.head; w != nil; w = w.next {
		k++
	}
	return k
}

func TestNotifyPermit(t *testing.T) {
	leakcheck.Check(t)
	var n Notify
	n.NotifyOne()
	n.NotifyOne() // permits do not add up
	w := &wakeCounter{}
	if !pollWith[struct{}](n.Notified(), w).IsReady() {
		t.Fatal("the stored permit was not consumed at the first poll")
	}
	if pollWith[struct{}](n.Notified(), w).IsReady() {
		t.Fatal("a second permit was stored")
	}
}

func TestNotifyOneWakesTheLongestWaiting(t *testing.T) {
	leakcheck.Check(t)
	var n Notify
	ws := []*wakeCounter{{}, {}, {}}
	fs := []*Notified{n.Notified(), n.Notified(), n.Notified()}
	for i, f := range fs {
		pollWith[struct{}](f, ws[i])
	}
	n.NotifyOne()
	if ws[0].Count() != 1 || ws[1].Count() != 0 || ws[2].Count() != 0 {
		t.Fatalf("wakes %d %d %d, want 1 0 0", ws[0].Count(), ws[1].Count(), ws[2].Count())
	}
	if !pollWith[struct{}](fs[0], ws[0]).IsReady() || pollWith[struct{}](fs[1], ws[1]).IsReady() {
		t.Fatal("the woken waiter is not Ready, or another one is")
	}
	fs[1].Drop()
	fs[2].Drop()
	if n.waiting() != 0 {
		t.Fatalf("%d dropped waiters still queued", n.waiting())
	}
}

func TestNotifyAll(t *testing.T) {
	leakcheck.Check(t)
	var n Notify
	ws := []*wakeCounter{{}, {}}
	fs := []*Notified{n.Notified(), n.Notified()}
	for i, f := range fs {
		pollWith[struct{}](f, ws[i])
	}
	n.NotifyAll()
	for i, f := range fs {
		if ws[i].Count() != 1 || !pollWith[struct{}](f, ws[i]).IsReady() {
			t.Fatalf("waiter %d: %d wakes and not Ready", i, ws[i].Count())
		}
	}
	if pollWith[struct{}](n.Notified(), &wakeCounter{}).IsReady() {
		t.Fatal("NotifyAll stored a permit")
	}
}

func TestNotifyDroppedChosenWaiterPassesOn(t *testing.T) {
	leakcheck.Check(t)
	t.Run("to the next waiter", func(t *testing.T) {
		leakcheck.Check(t)
		var n Notify
		w1, w2 := &wakeCounter{}, &wakeCounter{}
		f1, f2 := n.Notified(), n.Notified()
		pollWith[struct{}](f1, w1)
		pollWith[struct{}](f2, w2)
		n.NotifyOne()
		f1.Drop()
		if w2.Count() != 1 || !pollWith[struct{}](f2, w2).IsReady() {
			t.Fatalf("the next waiter got %d wakes and is not Ready", w2.Count())
		}
	})
	t.Run("to the permit", func(t *testing.T) {
		leakcheck.Check(t)
		var n Notify
		f := n.Notified()
		pollWith[struct{}](f, &wakeCounter{})
		n.NotifyOne()
		f.Drop()
		if !pollWith[struct{}](n.Notified(), &wakeCounter{}).IsReady() {
			t.Fatal("the notification was lost")
		}
	})
	t.Run("not after NotifyAll", func(t *testing.T) {
		leakcheck.Check(t)
		var n Notify
		f := n.Notified()
		pollWith[struct{}](f, &wakeCounter{})
		n.NotifyAll()
		f.Drop()
		if pollWith[struct{}](n.Notified(), &wakeCounter{}).IsReady() {
			t.Fatal("a dropped NotifyAll waiter left a permit")
		}
	})
}

// TestNotifyManyWaiters wakes waiters on other goroutines, one
// notification each, from several notifying goroutines, and drops some
// waiters halfway; every remaining waiter must finish.
func TestNotifyManyWaiters(t *testing.T) {
	leakcheck.Check(t)
	const waiters = 16
	var n Notify
	var wg sync.WaitGroup
	for range waiters {
		wg.Go(func() { BlockOn[struct{}](n.Notified()) })
	}
	// Waiters that are dropped while the notifications fly, queued among
	// the real ones: a notification that chose one of them must move on.
	var doomed []*Notified
	for range 4 {
		f := n.Notified()
		pollWith[struct{}](f, &wakeCounter{})
		doomed = append(doomed, f)
	}
	for n.waiting() < waiters+4 {
		runtime.Gosched()
	}
	var notifiers sync.WaitGroup
	notifiers.Go(func() {
		for _, f := range doomed {
			f.Drop()
		}
	})
	for range 4 {
		notifiers.Go(func() {
			for range waiters / 4 {
				n.NotifyOne()
			}
		})
	}
	notifiers.Wait()
	wg.Wait()
}
