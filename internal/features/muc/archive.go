package muc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/parleyim/parley/internal/features/mam"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// Namespaces of room archives (XEP-0313 on the room JID).
const (
	NSMAM = "urn:xmpp:mam:2"
)

// pendingMsg is a groupchat message of an archived room on its way to the
// archive: it is broadcast once archived, with its archive id as the
// stanza-id by the room.
type pendingMsg struct {
	m    *stanza.Element // stamped, without the stanza-id
	with jid.JID         // the sender's occupant JID
	at   time.Time
}

// maxPending bounds the messages of one room waiting for the archive;
// past it senders get resource-constraint until the writer catches up.
// archiveWait bounds one append: past it the batch is broadcast
// unarchived rather than held back.
const (
	maxPending  = 4096
	archiveWait = 30 * time.Second
)

// keep sends a groupchat message the room accepted (r.mu held): at once,
// into the cache, when the room is not archived; otherwise it is queued
// for the archive and the caller that finds no writer at work becomes it
// (unlock writes after releasing the lock, see flushArchive).
func (r *room) keep(ctx context.Context, m *stanza.Element, o *occupant) error {
	if !r.svc.archiving(r) {
		id := r.svc.newID()
		m.Append(stanza.New(nsStanzaID, "stanza-id").SetAttr("by", r.jidStr).SetAttr("id", id))
		r.hist.add(m, stampNow(), id)
		r.fanOut(ctx, m)
		return nil
	}
	if len(r.apending) >= maxPending {
		return errorf(stanza.ResourceConstraint, "the room's archive is behind; send again shortly")
	}
	r.apending = append(r.apending, &pendingMsg{m: m, with: o.nickJID, at: stampNow()})
	if !r.aflushing {
		r.aflushing, r.flushMine = true, true
	}
	return nil
}

// flushArchive writes the room's queued messages to the archive, without
// the room's lock, then broadcasts them in order under it; it repeats
// until the queue is empty. One caller at a time does it, so the
// archive's order is the order occupants see. A message the archive
// refused is still broadcast, with an id of the room's own.
func (r *room) flushArchive(ctx context.Context) {
	ctx = context.WithoutCancel(ctx) // the sender's session may end meanwhile
	for {
		r.mu.Lock()
		batch := r.apending
		r.apending = nil
		if len(batch) == 0 {
			r.aflushing = false
			r.mu.Unlock()
			return
		}
		r.mu.Unlock()
		entries := make([]storage.ArchiveEntry, len(batch))
		for i, p := range batch {
			entries[i] = storage.ArchiveEntry{Owner: r.jid, With: p.with, Data: storage.EncodeElements(p.m)}
		}
		actx, cancel := context.WithTimeout(ctx, archiveWait)
		ids, err := r.svc.archive.Append(actx, entries...)
		cancel()
		if err != nil {
			r.svc.log.Error("archiving groupchat messages failed; sent unarchived", "room", r.jidStr, "messages", len(batch), "err", err)
			mArchiveFailed.Add(float64(len(batch)))
		}
		r.mu.Lock()
		for i, p := range batch {
			id := r.svc.newID()
			if err == nil {
				id = ids[i]
			}
			p.m.Append(stanza.New(nsStanzaID, "stanza-id").SetAttr("by", r.jidStr).SetAttr("id", id))
			if !r.gone { // a destroyed room's cache was given back already
				r.hist.add(p.m, p.at, id)
				r.fanOut(ctx, p.m)
			}
		}
		r.mu.Unlock()
	}
}

// history returns the messages a new occupant asked for from the cache
// (r.mu held; warmHistory filled a cold cache before the lock was taken).
func (r *room) history(_ context.Context, l limits) []entry {
	return r.hist.pick(l)
}

// warmHistory fills the cold cache of an archived room from its archive
// (no room lock held): the latest history_size messages.
func (r *room) warmHistory(ctx context.Context) {
	if !r.svc.archiving(r) || r.hist.isWarm() || r.svc.cfg.HistorySize <= 0 {
		return
	}
	page, err := r.svc.archive.Query(ctx, r.jid, storage.ArchiveQuery{Max: r.svc.cfg.HistorySize, Backward: true})
	if err != nil {
		r.svc.log.Error("reading room history from the archive failed", "room", r.jidStr, "err", err)
		return
	}
	var dec storage.ElementDecoder
	es := make([]entry, 0, len(page.Messages))
	for _, am := range page.Messages {
		els, err := dec.Decode(am.Data)
		if err != nil || len(els) != 1 {
			r.svc.log.Error("unreadable archived room message skipped", "room", r.jidStr, "id", am.ID, "err", err)
			continue
		}
		m := els[0].Append(stanza.New(nsStanzaID, "stanza-id").SetAttr("by", r.jidStr).SetAttr("id", am.ID))
		es = append(es, entry{el: m, at: am.At, chars: len(m.AppendXML(nil, stanza.NSClient)), id: am.ID})
	}
	r.hist.fill(es)
}

// mamQuery answers a XEP-0313 query to the room (§5): the search form,
// or the results sent to the requester followed by the <fin/> result.
// The room's lock is held only to check access; the archive is read
// without it.
func (s *Service) mamQuery(ctx context.Context, from, to jid.JID, el, p *stanza.Element) error {
	r, err := s.lockRoom(to, from)
	if err != nil {
		return err
	}
	err = r.mayReadArchive(from)
	r.mu.Unlock()
	if err != nil {
		return err
	}
	if el.Attr("type") == stanza.Get {
		return s.reply(ctx, from, to, el, stanza.New(NSMAM, "query").Append(mam.SearchForm()))
	}
	q, err := mam.ParseQuery(p, mam.PageLimits{Default: s.cfg.MAMPageSize, Max: s.cfg.MAMMaxPage})
	if err != nil {
		return err
	}
	countOnly := q.Archive.Max == 0 // XEP-0059 §2.6
	if countOnly {
		q.Archive.Max = 1
	}
	page, err := s.archive.Query(ctx, r.jid, q.Archive)
	switch {
	case errors.Is(err, storage.ErrNoSuchID):
		return errorf(stanza.ItemNotFound, "no such message in the room's archive")
	case err != nil:
		return fmt.Errorf("muc: query the archive of %s: %w", r.jid, err)
	case countOnly:
		return s.reply(ctx, from, to, el, mam.CountOnly(page.Count))
	}
	msgs := page.Messages
	if q.Flip {
		msgs = slices.Clone(msgs)
		slices.Reverse(msgs)
	}
	r.sendResults(ctx, from, q.ID, msgs)
	return s.reply(ctx, from, to, el, mam.Fin(page, page.Messages))
}

// mayReadArchive: occupants and, in an open room, anyone not banned; in a
// members-only room members and above (XEP-0313 §5.1.1).
func (r *room) mayReadArchive(from jid.JID) error {
	aff := r.affiliation(from)
	switch {
	case !r.svc.archiving(r):
		return errorf(stanza.ServiceUnavailable, "this room keeps no archive")
	case aff == AffOutcast:
		return errorf(stanza.Forbidden, "you are banned from this room")
	case r.byJID[from] != nil:
		return nil
	case r.cfg.MembersOnly && aff < AffMember:
		return errorf(stanza.Forbidden, "the archive of a members-only room is for its members")
	}
	return nil
}

// sendResults delivers each archived message to the requester, forwarded
// with its archive time (§4.2).
func (r *room) sendResults(ctx context.Context, to jid.JID, queryID string, msgs []storage.ArchivedMessage) {
	var dec storage.ElementDecoder
	toStr := to.String()
	for _, am := range msgs {
		els, err := dec.Decode(am.Data)
		if err != nil || len(els) != 1 {
			r.svc.log.Error("unreadable archived room message skipped", "room", r.jidStr, "id", am.ID, "err", err)
			continue
		}
		r.svc.host.Deliver(ctx, to, mam.Result(r.jidStr, toStr, queryID, am, els[0]))
	}
}
