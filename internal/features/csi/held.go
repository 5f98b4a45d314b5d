package csi

import (
	"sync"

	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
)

// held is what one inactive session holds back, in arrival order.
type held struct {
	conn module.Conn
	// mu guards the fields below. It is held while flushing, so a stanza
	// offered meanwhile waits and goes out after the flushed ones.
	mu     sync.Mutex
	queue  []entry
	latest map[string]int // presence sender → index of its entry
	live   int            // entries not superseded
	bytes  int            // estimated size of those
	done   bool           // the session became active or closed
}

type entry struct {
	el   *stanza.Element // nil once superseded
	kind class
	size int
}

func newHeld(c module.Conn) *held {
	return &held{conn: c, latest: map[string]int{}}
}

// offer holds el and reports true, or flushes what is held and reports
// false so that el is delivered now, after it.
func (h *held) offer(el *stanza.Element) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done {
		return false
	}
	kind := classify(el)
	if kind == urgent {
		h.flushLocked()
		return false
	}
	size := estimate(el)
	if h.live >= MaxHeld || h.bytes+size > MaxHeldBytes {
		h.flushLocked()
		return false
	}
	// A copy: the router may hand the same element to other sessions.
	h.hold(entry{el: el.Copy(), kind: kind, size: size})
	return true
}

// hold appends e; a presence supersedes the one held from the same sender.
func (h *held) hold(e entry) {
	if e.kind == presence {
		from := e.el.Attr("from")
		if i, ok := h.latest[from]; ok {
			h.live--
			h.bytes -= h.queue[i].size
			h.queue[i] = entry{}
		}
		h.latest[from] = len(h.queue)
	}
	h.queue = append(h.queue, e)
	h.live++
	h.bytes += e.size
	h.compact()
}

// compact squeezes out superseded entries once they are the majority, so
// a chatty sender cannot grow the queue without bound.
func (h *held) compact() {
	if len(h.queue) < 2*h.live+16 {
		return
	}
	kept := h.queue[:0]
	for _, e := range h.queue {
		if e.el != nil {
			kept = append(kept, e)
		}
	}
	clear(h.queue[len(kept):])
	h.queue = kept
	clear(h.latest)
	for i, e := range h.queue {
		if e.kind == presence {
			h.latest[e.el.Attr("from")] = i
		}
	}
}

// flushLocked delivers what is held, in order, and empties the queue. It
// returns how many stanzas went out.
func (h *held) flushLocked() int {
	n := 0
	for _, e := range h.queue {
		if e.el != nil {
			h.conn.Deliver(e.el) // an error means the session is closing: nothing to do
			n++
		}
	}
	h.reset()
	return n
}

func (h *held) reset() {
	h.queue = nil
	clear(h.latest)
	h.live, h.bytes = 0, 0
}

// end stops holding: with flush the held stanzas are delivered, otherwise
// dropped. It returns how many there were.
func (h *held) end(flush bool) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.done = true
	if flush {
		return h.flushLocked()
	}
	n := h.live
	h.reset()
	return n
}
