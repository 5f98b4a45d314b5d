package router

import (
	"container/list"
	"context"
	"hash/maphash"
	"sync"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
)

// This file drops a message a client sends again after it reconnected.
// XEP-0198 §4 has a client resend the stanzas the server did not
// acknowledge when it cannot resume; the server may have routed them
// already (the ack was lost with the connection). XEP-0359 gives such a
// message the same origin-id both times, so a message from a local user
// whose (sender's bare JID, 'to', origin-id) was routed successfully
// within the window is consumed without being routed again: it is not
// archived, stored or delivered twice, and the sender gets no error (the
// first copy went through). Only messages routed without error are
// remembered, so a resend of one that failed goes through. A resend that
// arrives while the first copy is still being routed waits for its
// outcome.
//
// The memory is bounded: per sender the last dedupeSlots origin-ids (as
// 64-bit hashes), for at most dedupeSenders senders (the least recently
// active are forgotten first). It lives in memory, so it does not survive
// a restart.

const (
	dedupeSlots   = 32
	dedupeSenders = 16384
	// dedupeMinWindow is the least window; the server makes it at least
	// twice the stream-management resume window (SetDedupeWindow).
	dedupeMinWindow = 10 * time.Minute
	// NSSID is XEP-0359's namespace.
	NSSID = "urn:xmpp:sid:0"
)

// dedupe remembers recently routed origin-ids per sender.
type dedupe struct {
	seed   maphash.Seed
	window time.Duration
	now    func() time.Time

	mu      sync.Mutex
	senders map[jid.JID]*list.Element // of *sentBy
	lru     list.List                 // most recently active first
}

// sentBy is one sender's recent origin-ids, a ring.
type sentBy struct {
	who   jid.JID
	slots [dedupeSlots]slot
	next  int
}

type slot struct {
	key     uint64
	at      time.Time
	pending chan struct{} // closed when the first copy's routing ended; nil once it was routed
}

func newDedupe(window time.Duration) *dedupe {
	return &dedupe{seed: maphash.MakeSeed(), window: max(window, dedupeMinWindow), now: time.Now, senders: map[jid.JID]*list.Element{}}
}

// originID returns the id of el's XEP-0359 origin-id, or "".
func originID(el *stanza.Element) string {
	for _, c := range el.ChildElements() {
		if c.Space == NSSID && c.Local == "origin-id" {
			return c.Attr("id")
		}
	}
	return ""
}

// claim is called before a message from sender to 'to' with origin-id oid
// is routed. It reports dup when the same message was routed (or is
// being routed, and then is) within the window; otherwise the caller
// routes it and then calls done with the outcome.
func (d *dedupe) claim(ctx context.Context, sender, to jid.JID, oid string) (dup bool, done func(ok bool)) {
	key := d.key(to, oid)
	for {
		d.mu.Lock()
		sb := d.senderLocked(sender)
		s := sb.find(key, d.now().Add(-d.window))
		if s == nil {
			s = &sb.slots[sb.next]
			sb.next = (sb.next + 1) % dedupeSlots
			ch := make(chan struct{})
			*s = slot{key: key, at: d.now(), pending: ch}
			d.mu.Unlock()
			return false, func(ok bool) { d.finish(s, ch, ok) }
		}
		if s.pending == nil { // routed (a failure clears its slot)
			d.mu.Unlock()
			return true, nil
		}
		wait := s.pending
		d.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return false, func(bool) {} // route it: a duplicate is better than a loss
		}
	}
}

// finish records the outcome of the routing that claimed s with ch; a
// failure frees the slot, so that a resend is routed.
func (d *dedupe) finish(s *slot, ch chan struct{}, ok bool) {
	d.mu.Lock()
	if s.pending == ch { // not reused meanwhile
		s.pending = nil
		if !ok {
			*s = slot{}
		}
	}
	d.mu.Unlock()
	close(ch)
}

// find returns the live slot with key, or nil.
func (sb *sentBy) find(key uint64, since time.Time) *slot {
	for i := range sb.slots {
		s := &sb.slots[i]
		if s.key == key && !s.at.IsZero() && s.at.After(since) {
			return s
		}
	}
	return nil
}

// senderLocked returns sender's ring, making it the most recently active
// and forgetting the least recently active sender past dedupeSenders.
func (d *dedupe) senderLocked(sender jid.JID) *sentBy {
	if e, ok := d.senders[sender]; ok {
		d.lru.MoveToFront(e)
		return e.Value.(*sentBy)
	}
	if d.lru.Len() >= dedupeSenders {
		oldest := d.lru.Back()
		d.lru.Remove(oldest)
		delete(d.senders, oldest.Value.(*sentBy).who)
	}
	sb := &sentBy{who: sender}
	d.senders[sender] = d.lru.PushFront(sb)
	return sb
}

func (d *dedupe) key(to jid.JID, oid string) uint64 {
	var h maphash.Hash
	h.SetSeed(d.seed)
	h.WriteString(to.String())
	h.WriteByte(0)
	h.WriteString(oid)
	return h.Sum64()
}
