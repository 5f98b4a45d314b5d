package muc

import (
	"cmp"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyim/parley/internal/stanza"
)

// entry is one groupchat message kept for new occupants.
type entry struct {
	el    *stanza.Element // as broadcast, without 'to'; used only under the room's lock
	at    time.Time
	chars int    // serialised length: maxchars (§7.2.15) and the byte budgets
	id    string // the stanza-id by the room (its archive id when archived)
}

// historyCache is the budget every room's history cache draws on: at most
// maxCount messages and maxBytes bytes per room, maxTotal bytes over all
// rooms. Past the total, caches are evicted: rooms nobody is in first,
// then the least recently used, then the oldest messages of the room
// that is adding. Bytes are the serialised size of the kept messages.
type historyCache struct {
	maxCount int
	maxBytes int
	maxTotal int64
	svc      *Service
	total    atomic.Int64
	evictMu  sync.Mutex // one eviction at a time
}

// history is one room's cache of its last messages (§7.2.15). Its mutex
// is a leaf: taken after the room's, never with another history's.
type history struct {
	c       *historyCache
	room    *room // set once
	mu      sync.Mutex
	entries []entry // oldest first, from head
	head    int
	bytes   int
	// warm says the cache holds the room's latest messages; a released
	// cache of an archived room is cold until filled from the archive.
	warm bool
	used atomic.Int64 // UnixNano of the last add (eviction order)
}

func (c *historyCache) newHistory() *history { return &history{c: c, warm: true} }

// Bytes returns the bytes all rooms' history caches hold.
func (c *historyCache) Bytes() int64 { return c.total.Load() }

// historyBytes is the sum over every service (the metric).
var historyBytes atomic.Int64

func (c *historyCache) addTotal(d int64) int64 {
	historyBytes.Add(d)
	return c.total.Add(d)
}

// len returns the number of entries held (h.mu held).
func (h *history) len() int { return len(h.entries) - h.head }

// add keeps el, dropping the oldest entries past the room's limits, and
// evicts other caches when the total is over budget. A message larger
// than a room's whole budget is not kept.
func (h *history) add(el *stanza.Element, at time.Time, id string) {
	e := entry{el: el, at: at, chars: len(el.AppendXML(nil, stanza.NSClient)), id: id}
	h.mu.Lock()
	delta := h.appendLocked(e)
	h.used.Store(at.UnixNano())
	h.mu.Unlock()
	h.settle(delta)
}

// appendLocked keeps e within the room's limits and returns the change
// in bytes (h.mu held).
func (h *history) appendLocked(e entry) int64 {
	c := h.c
	if c.maxCount <= 0 || c.maxBytes <= 0 || e.chars > c.maxBytes {
		return 0
	}
	h.entries = append(h.entries, e)
	h.bytes += e.chars
	delta := int64(e.chars)
	for h.len() > c.maxCount || h.bytes > c.maxBytes {
		delta -= int64(h.dropOldest())
	}
	return delta
}

// settle accounts a change of h's bytes and evicts when over budget.
func (h *history) settle(delta int64) {
	if h.c.addTotal(delta) > h.c.maxTotal {
		h.c.evict(h)
	}
}

// isWarm reports whether the cache holds the room's latest messages.
func (h *history) isWarm() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.warm
}

// fill warms a cold cache with the latest archived messages (oldest
// first): they go before what was added since the cache went cold (ids
// above the last archived one).
func (h *history) fill(archived []entry) {
	h.mu.Lock()
	if h.warm {
		h.mu.Unlock()
		return
	}
	newer := slices.Clone(h.entries[h.head:])
	last := ""
	if len(archived) > 0 {
		last = archived[len(archived)-1].id
	}
	delta := -int64(h.bytes)
	h.entries, h.head, h.bytes = nil, 0, 0
	for _, e := range archived {
		delta += h.appendLocked(e)
	}
	for _, e := range newer {
		if e.id > last {
			delta += h.appendLocked(e)
		}
	}
	h.warm = true
	h.mu.Unlock()
	h.settle(delta)
}

// dropOldest removes the oldest entry and returns its size (h.mu held).
func (h *history) dropOldest() int {
	n := h.entries[h.head].chars
	h.entries[h.head] = entry{}
	h.head++
	h.bytes -= n
	if h.head > len(h.entries)/2 {
		h.entries = append(h.entries[:0:0], h.entries[h.head:]...)
		h.head = 0
	}
	return n
}

// release empties the cache and gives its bytes back to the budget; the
// cache of an archived room is then cold.
func (h *history) release() {
	h.mu.Lock()
	n := h.bytes
	h.entries, h.head, h.bytes = nil, 0, 0
	h.warm = h.room == nil || !h.room.svc.archiving(h.room)
	h.mu.Unlock()
	h.c.addTotal(-int64(n))
}

// evict brings the total back under budget (to 90% of it, so that it does
// not run again at once), sparing the cache that is adding until last.
func (c *historyCache) evict(adding *history) {
	c.evictMu.Lock()
	defer c.evictMu.Unlock()
	target := c.maxTotal - c.maxTotal/10
	if c.total.Load() <= c.maxTotal {
		return
	}
	type cand struct {
		h       *history
		present bool
		used    int64
	}
	var cands []cand
	for _, r := range c.svc.allRooms() {
		if r.hist != adding {
			cands = append(cands, cand{r.hist, r.present.Load() > 0, r.hist.used.Load()})
		}
	}
	slices.SortFunc(cands, func(a, b cand) int {
		if a.present != b.present {
			if a.present {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.used, b.used)
	})
	for _, cd := range cands {
		if c.total.Load() <= target {
			return
		}
		cd.h.release()
	}
	adding.mu.Lock()
	freed := 0
	for adding.len() > 0 && c.total.Load()-int64(freed) > c.maxTotal {
		freed += adding.dropOldest()
	}
	adding.mu.Unlock()
	c.addTotal(-int64(freed))
}

// limits is what a new occupant asked for in <history/>; negative
// numbers and zero times mean no limit.
type limits struct {
	maxChars, maxStanzas int
	since                time.Time
}

// parseLimits reads the <history/> child of the join's MUC <x/>. Values
// that do not parse are ignored (§7.2.15 gives no error for them).
func parseLimits(x *stanza.Element, now time.Time) limits {
	l := limits{maxChars: -1, maxStanzas: -1}
	if x == nil {
		return l
	}
	h := x.Child(NS, "history")
	if h == nil {
		return l
	}
	num := func(name string) int {
		if v, err := strconv.Atoi(h.Attr(name)); err == nil && v >= 0 {
			return v
		}
		return -1
	}
	l.maxChars, l.maxStanzas = num("maxchars"), num("maxstanzas")
	if s := num("seconds"); s >= 0 {
		l.since = now.Add(-time.Duration(s) * time.Second)
	}
	if v := h.Attr("since"); v != "" {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil && t.After(l.since) {
			l.since = t
		}
	}
	return l
}

// pick returns copies of the entries allowed by l, oldest first: the
// newest ones that fit every limit together.
func (h *history) pick(l limits) []entry {
	h.mu.Lock()
	defer h.mu.Unlock()
	return pickEntries(h.entries[h.head:], l)
}

// pickEntries applies l to es (oldest first).
func pickEntries(es []entry, l limits) []entry {
	n := len(es)
	first, chars := n, 0
	for i := n - 1; i >= 0; i-- {
		e := &es[i]
		if l.maxStanzas >= 0 && n-i > l.maxStanzas {
			break
		}
		if !l.since.IsZero() && !e.at.After(l.since) {
			break
		}
		if l.maxChars >= 0 && chars+e.chars > l.maxChars {
			break
		}
		chars += e.chars
		first = i
	}
	return slices.Clone(es[first:])
}

// delayed returns a copy of e's message for 'to', stamped with its time
// by the room (XEP-0203).
func (e *entry) delayed(room, to string) *stanza.Element {
	c := e.el.Copy().SetAttr("to", to)
	c.Append(stanza.New(nsDelay, "delay").SetAttr("from", room).
		SetAttr("stamp", e.at.UTC().Format("2006-01-02T15:04:05.000Z")))
	return c
}
