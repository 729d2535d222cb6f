package executor

// The Runtime must tell a wake or spawn made by one of its workers, which may
// use that worker's own queue, from one made anywhere else; Go has no
// goroutine-local storage (Tokio uses a thread-local for this), so it
// compares currentG, the address of the runtime's descriptor of the calling
// goroutine: stable for the goroutine's life and never shared by two live
// goroutines. Where an architecture has no implementation currentG returns 0,
// and every goroutine looks like one from outside the workers (correct, only
// slower: its spawns and wakes take the injection queue).

// gWorks reports whether currentG tells goroutines apart on this build: a
// check made once, so that a broken assumption degrades to the injection
// queue instead of letting two goroutines share a worker's queue.
var gWorks = func() bool {
	a := currentG()
	if a == 0 || a != currentG() {
		return false
	}
	ch := make(chan uintptr)
	go func() { ch <- currentG() }()
	b := <-ch
	return b != 0 && b != a
}()
