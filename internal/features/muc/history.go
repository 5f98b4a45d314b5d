package muc

import (
	"strconv"
	"time"

	"github.com/parleyim/parley/internal/stanza"
)

// entry is one groupchat message kept for new occupants.
type entry struct {
	el    *stanza.Element // as broadcast, without 'to'
	at    time.Time
	chars int // serialised length, for maxchars
}

// history is a ring of the last messages of a room (§7.2.15).
type history struct {
	buf  []entry
	next int // where the next entry goes
	n    int // entries held
}

func newHistory(size int) history { return history{buf: make([]entry, size)} }

func (h *history) add(el *stanza.Element, at time.Time) {
	if len(h.buf) == 0 {
		return
	}
	h.buf[h.next] = entry{el: el, at: at, chars: len(el.AppendXML(nil, stanza.NSClient))}
	h.next = (h.next + 1) % len(h.buf)
	if h.n < len(h.buf) {
		h.n++
	}
}

// at returns the i-th oldest entry held.
func (h *history) at(i int) *entry {
	return &h.buf[(h.next-h.n+i+len(h.buf))%len(h.buf)]
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

// pick returns the entries allowed by l, oldest first: the newest ones
// that fit every limit together.
func (h *history) pick(l limits) []*entry {
	first, chars := h.n, 0
	for i := h.n - 1; i >= 0; i-- {
		e := h.at(i)
		if l.maxStanzas >= 0 && h.n-i > l.maxStanzas {
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
	out := make([]*entry, 0, h.n-first)
	for i := first; i < h.n; i++ {
		out = append(out, h.at(i))
	}
	return out
}

// delayed returns a copy of e's message for 'to', stamped with its time
// by the room (XEP-0203).
func (e *entry) delayed(room, to string) *stanza.Element {
	c := e.el.Copy().SetAttr("to", to)
	c.Append(stanza.New(nsDelay, "delay").SetAttr("from", room).
		SetAttr("stamp", e.at.UTC().Format("2006-01-02T15:04:05.000Z")))
	return c
}
