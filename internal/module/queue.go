package module

import (
	"context"
	"sync"

	"github.com/parleyim/parley/internal/stanza"
)

// PipelineQueue is the ordered queue of deferred work behind a stream's
// Pipeline (c2s sessions and inbound s2s streams have one each): the
// stream's reader pushes items and goes on reading; a goroutine of the
// queue's own hands them to finish one at a time, in the order pushed.
// The goroutine exists only while work is pending. At most max items wait
// (Room blocks the reader past that).
type PipelineQueue[T any] struct {
	max    int
	finish func(T)

	mu      sync.Mutex
	cond    sync.Cond // on mu: pending went down
	q       []T
	pending int  // queued and not finished
	running bool // the goroutine runs
}

// NewPipelineQueue returns a queue that runs finish on each item, with
// at most max items pending.
func NewPipelineQueue[T any](max int, finish func(T)) *PipelineQueue[T] {
	q := &PipelineQueue[T]{max: max, finish: finish}
	q.cond.L = &q.mu
	return q
}

// Busy reports whether work is pending (queued or being finished).
func (q *PipelineQueue[T]) Busy() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.pending > 0
}

// Idle reports whether nothing is pending and the goroutine is gone.
func (q *PipelineQueue[T]) Idle() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.pending == 0 && !q.running
}

// Push queues it behind the pending items.
func (q *PipelineQueue[T]) Push(it T) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.q = append(q.q, it)
	q.pending++
	if !q.running {
		q.running = true
		go q.run()
	}
}

// Room waits until the queue has room for one more item.
func (q *PipelineQueue[T]) Room() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.pending >= q.max {
		q.cond.Wait()
	}
}

// Drain waits until every pushed item was finished.
func (q *PipelineQueue[T]) Drain() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.pending > 0 {
		q.cond.Wait()
	}
}

// run finishes the queued items in order until none is left.
func (q *PipelineQueue[T]) run() {
	var zero T
	for {
		q.mu.Lock()
		if len(q.q) == 0 {
			q.running = false
			q.q = nil
			q.mu.Unlock()
			return
		}
		it := q.q[0]
		q.q[0] = zero
		q.q = q.q[1:]
		q.mu.Unlock()
		q.finish(it)
		q.mu.Lock()
		q.pending--
		q.cond.Broadcast()
		q.mu.Unlock()
	}
}

// PipelineItem is one stanza's deferred work in a StanzaPipeline: Wait
// (the archive's commit, say; may be nil) and then, if it returned nil,
// Then; the error of either is El's outcome. An item with Nonza set does
// only that (an XEP-0198 <r/> answered in order).
type PipelineItem struct {
	El    *stanza.Element
	Wait  func() error
	Then  func(context.Context) error
	Nonza func() error

	route func(context.Context, *stanza.Element) error // El queued whole: Then routes it
}

// StanzaPipeline is a stream's Pipeline: its reader routes each stanza
// through Handle and goes on reading while a message waits (for its
// archive commit); the queue's goroutine finishes the deferred stanzas in
// the order they came. c2s sessions and inbound s2s streams each have one;
// what finishing means (an error reply and the XEP-0198 count, or a
// bounce) is their finish function's.
type StanzaPipeline struct {
	*PipelineQueue[PipelineItem]
	msgCtx context.Context // the reader's context with the pipeline, for messages

	// The reader's: the stanza being routed, and whether Defer took it.
	el       *stanza.Element
	deferred bool
}

// NewStanzaPipeline returns a pipeline of at most max pending stanzas
// that hands each to finish; messages are routed in ctx with the
// pipeline added (WithPipeline), so that a hook may defer their rest.
func NewStanzaPipeline(ctx context.Context, max int, finish func(PipelineItem)) *StanzaPipeline {
	p := &StanzaPipeline{PipelineQueue: NewPipelineQueue(max, func(it PipelineItem) {
		if route := it.route; route != nil {
			el := it.El
			it.Then = func(ctx context.Context) error { return route(ctx, el) }
		}
		finish(it)
	})}
	p.msgCtx = WithPipeline(ctx, p)
	return p
}

// Defer implements Pipeline for the stanza being routed.
func (p *StanzaPipeline) Defer(wait func() error, then func(context.Context) error) {
	p.deferred = true
	p.Push(PipelineItem{El: p.el, Wait: wait, Then: then})
}

// Handle routes el with route, keeping the order of the stream's
// stanzas: a stanza other than a message that comes while work is
// pending is queued whole (route runs on the pipeline's goroutine); a
// message is routed now in the pipeline's context, and a hook may defer
// its rest; an outcome that comes while work is pending is queued behind
// it. It waits while the pipeline is full. now reports that the caller
// has the outcome, err, to act on; otherwise finish will. (route takes el
// rather than closing over it: a session passes the same func each time,
// and the common path allocates nothing.)
func (p *StanzaPipeline) Handle(ctx context.Context, el *stanza.Element, route func(context.Context, *stanza.Element) error) (now bool, err error) {
	p.Room()
	if el.Local != stanza.KindMessage && p.Busy() {
		p.Push(PipelineItem{El: el, route: route})
		return false, nil
	}
	if el.Local == stanza.KindMessage {
		ctx = p.msgCtx
	}
	p.el, p.deferred = el, false
	err = route(ctx, el)
	p.el = nil
	switch {
	case p.deferred: // the pipeline finishes it
		return false, nil
	case p.Busy(): // finished behind the pending stanzas
		out := err // captured by value: err, a result, would move to the heap on every call
		p.Push(PipelineItem{El: el, Then: func(context.Context) error { return out }})
		return false, nil
	}
	return true, err
}
