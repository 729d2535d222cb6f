package future

// The combinators below are explicit state machines: each holds only its
// fields, allocates its own struct once when built, and allocates nothing
// per poll. A combinator that has several children polls every unfinished
// child on each of its polls, with the Context it was given (so every child
// wakes the same task); that costs O(unfinished children) per poll, which
// suits the small fan-outs combinators are for. Spawn tasks for large ones.
//
// Every combinator that holds children implements Dropper: dropping it before
// it is Ready drops each child that has not finished, exactly once, in the
// order documented on the constructor. A child that returned Ready is never
// dropped.

// dropChild drops the unfinished child in *f, if any, and clears the field
// first, so that the child is dropped once even if its Drop reaches back.
func dropChild[T any](f *Future[T]) {
	if c := *f; c != nil {
		*f = nil
		Drop(c)
	}
}

// PollFn returns a future whose Poll calls fn with the Context of that poll.
// fn follows the Future contract (Pending only after arranging a wake) and
// must not be nil. The future has no Drop of its own, and converting fn to
// it allocates nothing.
func PollFn[T any](fn func(cx *Context) Poll[T]) Future[T] { return pollFn[T](fn) }

type pollFn[T any] func(cx *Context) Poll[T]

func (f pollFn[T]) Poll(cx *Context) Poll[T] { return f(cx) }

// Resolved returns a future that is Ready with v on its first poll.
// (Ready is the constructor of a Ready Poll; Resolved is the future.)
func Resolved[T any](v T) Future[T] { return &resolved[T]{v: v} }

type resolved[T any] struct{ v T }

func (r *resolved[T]) Poll(*Context) Poll[T] { return Ready(r.v) }

// Map returns a future that is Ready with fn(v) once f is Ready with v.
// fn runs once, inside the poll that saw f Ready, and must not be nil.
// Dropping the Map future before it is Ready drops f.
func Map[T, U any](f Future[T], fn func(T) U) Future[U] {
	return &mapFuture[T, U]{child: f, fn: fn}
}

type mapFuture[T, U any] struct {
	child Future[T] // nil once it was Ready or dropped
	fn    func(T) U
}

func (m *mapFuture[T, U]) Poll(cx *Context) Poll[U] {
	v, ok := m.child.Poll(cx).Value()
	if !ok {
		return Pending[U]()
	}
	m.child = nil
	return Ready(m.fn(v))
}

func (m *mapFuture[T, U]) Drop() {
	dropChild(&m.child)
}

// Then returns a future that runs f, passes its value to fn, and then runs
// the future fn returns, yielding that future's value. fn runs once, inside
// the poll that saw f Ready, and the future it returns is polled in that same
// poll; fn must not be nil nor return nil. Dropping the Then future before it
// is Ready drops whichever of the two futures is running.
func Then[T, U any](f Future[T], fn func(T) Future[U]) Future[U] {
	return &thenFuture[T, U]{first: f, fn: fn}
}

type thenFuture[T, U any] struct {
	first  Future[T] // nil once Ready or dropped
	fn     func(T) Future[U]
	second Future[U] // set when first is Ready; nil once Ready or dropped
}

func (t *thenFuture[T, U]) Poll(cx *Context) Poll[U] {
	if t.first != nil {
		v, ok := t.first.Poll(cx).Value()
		if !ok {
			return Pending[U]()
		}
		t.first = nil
		t.second = t.fn(v)
		t.fn = nil
	}
	p := t.second.Poll(cx)
	if p.IsReady() {
		t.second = nil
	}
	return p
}

func (t *thenFuture[T, U]) Drop() {
	t.fn = nil
	dropChild(&t.first)
	dropChild(&t.second)
}

// Pair holds the values of the two futures of a Join.
type Pair[A, B any] struct {
	First  A
	Second B
}

// Join returns a future that runs a and b concurrently (both are polled on
// each poll until they are Ready) and is Ready with both values once both
// are. Dropping it before it is Ready drops the unfinished ones: a first,
// then b.
func Join[A, B any](a Future[A], b Future[B]) Future[Pair[A, B]] {
	return &joinFuture[A, B]{a: a, b: b}
}

type joinFuture[A, B any] struct {
	a   Future[A] // nil once Ready or dropped
	b   Future[B]
	out Pair[A, B]
}

func (j *joinFuture[A, B]) Poll(cx *Context) Poll[Pair[A, B]] {
	if j.a != nil {
		if v, ok := j.a.Poll(cx).Value(); ok {
			j.out.First, j.a = v, nil
		}
	}
	if j.b != nil {
		if v, ok := j.b.Poll(cx).Value(); ok {
			j.out.Second, j.b = v, nil
		}
	}
	if j.a != nil || j.b != nil {
		return Pending[Pair[A, B]]()
	}
	return Ready(j.out)
}

func (j *joinFuture[A, B]) Drop() {
	dropChild(&j.a)
	dropChild(&j.b)
}

// JoinAll returns a future that runs every future of fs concurrently and is
// Ready with their values in the order of fs once all are. With no futures
// it is Ready at once with an empty slice. JoinAll takes fs over: it clears
// its entries as children finish, so the caller must not use fs afterwards
// (passing the futures as separate arguments gives it a fresh slice).
// Dropping it before it is Ready drops the unfinished children in index
// order.
func JoinAll[T any](fs ...Future[T]) Future[[]T] {
	return &joinAll[T]{children: fs, out: make([]T, len(fs)), left: len(fs)}
}

type joinAll[T any] struct {
	children []Future[T] // an entry is nil once Ready or dropped
	out      []T
	left     int // children not yet Ready
}

func (j *joinAll[T]) Poll(cx *Context) Poll[[]T] {
	for i, c := range j.children {
		if c == nil {
			continue
		}
		if v, ok := c.Poll(cx).Value(); ok {
			j.out[i], j.children[i] = v, nil
			j.left--
		}
	}
	if j.left > 0 {
		return Pending[[]T]()
	}
	return Ready(j.out)
}

func (j *joinAll[T]) Drop() {
	for i := range j.children {
		dropChild(&j.children[i])
	}
}

// Selected is the outcome of Select: which future won and its value.
type Selected[T any] struct {
	Index int // the winner's position in the arguments of Select
	Value T
}

// Select returns a future that runs every future of fs concurrently and is
// Ready with the first one to be Ready. On each poll the children are polled
// in index order and the first Ready one wins (ties go to the lower index).
// Before Select returns Ready, it drops every other child, in index order.
// Dropping Select before it is Ready drops all children in index order.
// With no futures it is never Ready, like an empty Go select. Select takes
// fs over as JoinAll does.
func Select[T any](fs ...Future[T]) Future[Selected[T]] {
	return &selectFuture[T]{children: fs}
}

type selectFuture[T any] struct {
	children []Future[T] // nil once a winner was found or it was dropped
}

func (s *selectFuture[T]) Poll(cx *Context) Poll[Selected[T]] {
	if i, v, ok := s.poll(cx); ok {
		return Ready(Selected[T]{Index: i, Value: v})
	}
	return Pending[Selected[T]]()
}

// poll polls the children in order; on a winner it drops the losers.
func (s *selectFuture[T]) poll(cx *Context) (int, T, bool) {
	for i, c := range s.children {
		if v, ok := c.Poll(cx).Value(); ok {
			s.dropAll(i)
			return i, v, true
		}
	}
	var zero T
	return -1, zero, false
}

// dropAll drops every child but the one at index keep (-1 for none).
func (s *selectFuture[T]) dropAll(keep int) {
	cs := s.children
	s.children = nil
	for i, c := range cs {
		if i != keep {
			Drop(c)
		}
	}
}

func (s *selectFuture[T]) Drop() { s.dropAll(-1) }

// Race is Select without the index: it yields the value of the first future
// to be Ready, with the same polling order, the same dropping of the others
// (in index order) and the same Drop.
func Race[T any](fs ...Future[T]) Future[T] {
	return &raceFuture[T]{selectFuture[T]{children: fs}}
}

type raceFuture[T any] struct{ selectFuture[T] }

func (r *raceFuture[T]) Poll(cx *Context) Poll[T] {
	if _, v, ok := r.poll(cx); ok {
		return Ready(v)
	}
	return Pending[T]()
}

// Lazy returns a future that calls build on its first poll and from then on
// behaves as the future build returned. build runs at most once, never if the
// Lazy future is dropped unpolled, and must not be nil nor return nil.
// Dropping the Lazy future drops the built future if it is unfinished.
func Lazy[T any](build func() Future[T]) Future[T] {
	return &lazyFuture[T]{build: build}
}

type lazyFuture[T any] struct {
	build func() Future[T] // nil once called or dropped
	f     Future[T]        // the built future; nil once Ready or dropped
}

func (l *lazyFuture[T]) Poll(cx *Context) Poll[T] {
	if l.build != nil {
		l.f = l.build()
		l.build = nil
	}
	p := l.f.Poll(cx)
	if p.IsReady() {
		l.f = nil
	}
	return p
}

func (l *lazyFuture[T]) Drop() {
	l.build = nil
	dropChild(&l.f)
}
