package c2s

import (
	"container/heap"
	"sync"
	"time"
)

// wakeups is the idle timer of every parked connection (park.go): the
// connections ordered by when their timer is due (a binary heap) and one
// runtime timer set for the earliest. A time.Timer of its own cost each
// parked connection about 130 bytes; here it costs an entry of 16.
//
// Lock order: a connection's parkMu, then wakeups.mu. The timer's function
// takes only wakeups.mu and runs the due connections after releasing it.
type wakeups struct {
	mu    sync.Mutex
	q     wakeQueue
	timer *time.Timer
	armed time.Duration // when the timer is set to fire (since epoch); 0 when it is not
}

// wakes is the process's: every server's parked connections share it, as
// they share the poller (netpoll.Default).
var wakes wakeups

// epoch is the zero of the wake times: a monotonic clock reading.
var epoch = time.Now()

func sinceEpoch() time.Duration { return time.Since(epoch) }

// add sets t's timer to run t.onTimer after d. t must not have one set.
func (w *wakeups) add(t *tcpTransport, d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	at := sinceEpoch() + max(d, 0)
	heap.Push(&w.q, wakeEntry{at: at, t: t})
	if w.armed == 0 || at < w.armed {
		w.arm(at)
	}
}

// remove stops t's timer if it is set.
func (w *wakeups) remove(t *tcpTransport) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if t.wakeIdx == 0 {
		return
	}
	heap.Remove(&w.q, int(t.wakeIdx-1))
	// The runtime timer stays as it is: if it fires for nothing, fire
	// sets it for the next entry.
}

// arm sets the runtime timer for at; w.mu is held.
func (w *wakeups) arm(at time.Duration) {
	w.armed = at
	d := at - sinceEpoch()
	if w.timer == nil {
		w.timer = time.AfterFunc(d, w.fire)
		return
	}
	w.timer.Reset(d)
}

// fire runs every connection whose timer is due, each on a goroutine of
// its own (as time.AfterFunc did), and sets the timer for the next.
func (w *wakeups) fire() {
	var due []*tcpTransport
	w.mu.Lock()
	now := sinceEpoch()
	for len(w.q) > 0 && w.q[0].at <= now {
		due = append(due, heap.Pop(&w.q).(wakeEntry).t)
	}
	w.armed = 0
	if len(w.q) > 0 {
		w.arm(w.q[0].at)
	} else if cap(w.q) > 1024 {
		w.q = nil // give back what a crowd of parked connections needed
	}
	w.mu.Unlock()
	for _, t := range due {
		go t.onTimer()
	}
}

// wakeEntry is one parked connection's timer.
type wakeEntry struct {
	at time.Duration // since epoch
	t  *tcpTransport
}

// wakeQueue is a heap.Interface of entries by time; each entry's
// connection knows its place (wakeIdx, one-based, 0 when not queued).
type wakeQueue []wakeEntry

func (q wakeQueue) Len() int           { return len(q) }
func (q wakeQueue) Less(i, j int) bool { return q[i].at < q[j].at }

func (q wakeQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].t.wakeIdx = int32(i + 1)
	q[j].t.wakeIdx = int32(j + 1)
}

func (q *wakeQueue) Push(x any) {
	e := x.(wakeEntry)
	e.t.wakeIdx = int32(len(*q) + 1)
	*q = append(*q, e)
}

func (q *wakeQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = wakeEntry{}
	*q = old[:len(old)-1]
	e.t.wakeIdx = 0
	return e
}
