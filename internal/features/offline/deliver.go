package offline

import (
	"context"
	"fmt"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// Flush delivers the stored messages of s's user to s, oldest first, each
// with a delay stamp, and removes each from storage once it is queued to
// the session. When the session stops accepting stanzas, the rest stays
// stored for the next login.
//
// A session that paces bursts (module.Paced: stream management) gets the
// queue at its client's pace, however long it is: when its window for
// unacknowledged stanzas is full, Flush returns and runs again once the
// client's acks made room (flushLater). Other sessions get at most
// MaxBurstBytes at one login.
func (m *Module) Flush(ctx context.Context, s module.Session) error {
	owner := s.JID().Bare()
	mu := m.lock(owner)
	mu.Lock()
	defer mu.Unlock()
	var dec storage.ElementDecoder
	paced, _ := s.(module.Paced)
	if paced != nil && paced.Room() < 0 {
		paced = nil
	}
	sent := 0
	for {
		n := batch
		if paced != nil {
			n = min(n, max(paced.Room(), 1))
		}
		items, err := m.queue.Peek(ctx, owner, n)
		if err != nil || len(items) == 0 {
			return err
		}
		d := deliverer{m: m, s: s, paced: paced, dec: &dec, sent: sent}
		last, next, derr := d.batch(ctx, items)
		sent = d.sent
		if done := idsThrough(items, last); len(done) > 0 {
			if _, err := m.queue.Remove(ctx, owner, done); err != nil {
				return fmt.Errorf("offline: remove delivered messages of %s: %w", owner, err)
			}
		}
		switch {
		case derr != nil || next == stop:
			return derr
		case next == wait:
			m.flushLater(ctx, s, paced)
			return nil
		case len(items) < n:
			return nil
		}
	}
}

// flushLater runs Flush again when the paced session has room.
func (m *Module) flushLater(ctx context.Context, s module.Session, paced module.Paced) {
	ctx = context.WithoutCancel(ctx) // the hook's context ends with the stanza that started the flush
	paced.WhenRoom(func() {
		if err := m.Flush(ctx, s); err != nil {
			m.log.Warn("offline delivery failed", "jid", s.JID(), "err", err)
		}
	})
}

// next says how Flush goes on after a batch.
type next uint8

const (
	more next = iota // the next batch
	stop             // the session takes no more now; the rest stays stored
	wait             // the paced session's window is full: again after its acks
)

// deliverer queues one batch of stored messages to a session.
type deliverer struct {
	m     *Module
	s     module.Session
	paced module.Paced // nil: bounded by MaxBurstBytes instead
	dec   *storage.ElementDecoder
	sent  int // bytes queued by this Flush
}

// idsThrough lists the IDs of items (in Peek order) up to and including
// the one with ID last; none when last is 0.
func idsThrough(items []storage.Item, last int64) []int64 {
	if last == 0 {
		return nil
	}
	var ids []int64
	for _, it := range items {
		ids = append(ids, it.ID)
		if it.ID == last {
			break
		}
	}
	return ids
}

// batch queues items to the session. It returns the ID of the last item
// that is done with (delivered, or undeliverable for good) and how to go
// on.
func (d *deliverer) batch(ctx context.Context, items []storage.Item) (last int64, _ next, _ error) {
	m, s := d.m, d.s
	owner := s.JID().Bare()
	synced := m.cfg.Synced != nil && m.cfg.Synced(s)
	for _, it := range items {
		if d.paced != nil && d.paced.Room() == 0 {
			return last, wait, nil
		}
		if max := m.cfg.MaxBurstBytes; d.paced == nil && max > 0 && d.sent > 0 && d.sent+len(it.Data) > max {
			m.log.Info("offline backlog larger than one burst; the rest waits for the next login", "jid", s.JID())
			return last, stop, nil
		}
		msg, err := m.decode(d.dec, it)
		if err != nil {
			m.log.Error("dropping unreadable offline message", "jid", owner, "id", it.ID, "err", err)
			last = it.ID
			continue
		}
		if synced && archived(msg, owner) {
			last = it.ID // the client fetches it from the archive
			continue
		}
		sender, _ := jid.Parse(msg.Attr("from"))
		if blocked, err := m.blocked(ctx, owner, sender); err != nil {
			return last, stop, err
		} else if blocked {
			last = it.ID
			continue
		}
		msg.Append(delay(owner.Domain(), it.Created))
		if err := s.Deliver(msg); err != nil {
			return last, stop, nil // the session is closing: keep the rest
		}
		last, d.sent = it.ID, d.sent+len(it.Data)
	}
	return last, more, nil
}

func (m *Module) decode(dec *storage.ElementDecoder, it storage.Item) (*stanza.Element, error) {
	els, err := dec.Decode(it.Data)
	if err != nil {
		return nil, err
	}
	if len(els) != 1 || els[0].Local != stanza.KindMessage {
		return nil, fmt.Errorf("offline: stored item %d is not one message", it.ID)
	}
	return els[0], nil
}

// archived reports whether msg carries the archive's stanza-id for owner
// (XEP-0359: only the server adds one by the user's bare JID).
func archived(msg *stanza.Element, owner jid.JID) bool {
	for _, c := range msg.ChildElements() {
		if c.Space == NSStanzaID && c.Local == "stanza-id" && c.Attr("by") == owner.String() {
			return true
		}
	}
	return false
}

// delay is the XEP-0203 stamp XEP-0160 §2 recommends.
func delay(domain string, at time.Time) *stanza.Element {
	return stanza.New(NSDelay, "delay").
		SetAttr("from", domain).
		SetAttr("stamp", at.UTC().Format("2006-01-02T15:04:05.000Z")).
		AppendText("Offline Storage")
}

// Storable reports whether a message to an offline user is stored
// (XEP-0160 §3, XEP-0334): only types normal and chat; never with a
// <no-store/> hint; always with a <store/> hint; otherwise only when it
// carries something besides chat states, hints and a thread.
func Storable(el *stanza.Element) bool {
	switch el.Attr("type") {
	case "", "normal", "chat":
	default:
		return false
	}
	store, content := false, false
	for _, c := range el.ChildElements() {
		switch {
		case c.Space == NSHints && c.Local == "no-store":
			return false
		case c.Space == NSHints && c.Local == "store":
			store = true
		case c.Space == NSHints, c.Space == NSChatStates:
		case c.Space == el.Space && c.Local == "thread":
		default:
			content = true
		}
	}
	return store || content
}
