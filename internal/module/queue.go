package module

import "sync"

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
