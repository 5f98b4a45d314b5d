package muc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// Namespaces of room archives (XEP-0313 on the room JID).
const (
	NSMAM     = "urn:xmpp:mam:2"
	nsRSM     = "http://jabber.org/protocol/rsm"
	nsForward = "urn:xmpp:forward:0"
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
const maxPending = 4096

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
		ids, err := r.svc.archive.Append(ctx, entries...)
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
		return s.reply(ctx, from, to, el, stanza.New(NSMAM, "query").Append(mamForm()))
	}
	q, flip, err := s.parseMAM(p)
	if err != nil {
		return err
	}
	page, err := s.archive.Query(ctx, r.jid, q)
	switch {
	case errors.Is(err, storage.ErrNoSuchID):
		return errorf(stanza.ItemNotFound, "no such message in the room's archive")
	case err != nil:
		return fmt.Errorf("muc: query the archive of %s: %w", r.jid, err)
	}
	msgs := page.Messages
	if flip {
		msgs = slices.Clone(msgs)
		slices.Reverse(msgs)
	}
	r.sendResults(ctx, from, p.Attr("queryid"), msgs)
	return s.reply(ctx, from, to, el, mamFin(page))
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
	for _, am := range msgs {
		els, err := dec.Decode(am.Data)
		if err != nil || len(els) != 1 {
			r.svc.log.Error("unreadable archived room message skipped", "room", r.jidStr, "id", am.ID, "err", err)
			continue
		}
		res := stanza.New(NSMAM, "result").SetAttr("id", am.ID)
		if queryID != "" {
			res.SetAttr("queryid", queryID)
		}
		res.Append(stanza.New(nsForward, "forwarded").Append(
			stanza.New(nsDelay, "delay").SetAttr("stamp", am.At.UTC().Format("2006-01-02T15:04:05.000000Z")), els[0]))
		m := stanza.New(stanza.NSClient, stanza.KindMessage).SetAttr("from", r.jidStr).SetAttr("to", to.String()).
			SetAttr("id", r.svc.newID()).Append(res)
		r.svc.host.Deliver(ctx, to, m)
	}
}

// mamForm is the search form of a room archive (§4.1.5).
func mamForm() *stanza.Element {
	f := newForm("form", NSMAM, "")
	for _, v := range [][2]string{{"with", "jid-single"}, {"start", "text-single"}, {"end", "text-single"},
		{"after-id", "text-single"}, {"before-id", "text-single"}, {"ids", "list-multi"}} {
		f.field(v[0], v[1], "")
	}
	return f.x
}

// mamFin is the iq result (§4.3): complete when nothing is left in the
// paging direction, with the RSM set of the page.
func mamFin(page storage.ArchivePage) *stanza.Element {
	fin := stanza.New(NSMAM, "fin")
	if page.Complete {
		fin.SetAttr("complete", "true")
	}
	set := stanza.New(nsRSM, "set")
	if n := len(page.Messages); n > 0 {
		set.Append(stanza.New(nsRSM, "first").AppendText(page.Messages[0].ID),
			stanza.New(nsRSM, "last").AppendText(page.Messages[n-1].ID))
	}
	if page.Count >= 0 {
		set.Append(stanza.New(nsRSM, "count").AppendText(strconv.Itoa(page.Count)))
	}
	return fin.Append(set)
}

// parseMAM reads a query: its form, RSM set and flip-page.
func (s *Service) parseMAM(p *stanza.Element) (storage.ArchiveQuery, bool, error) {
	q := storage.ArchiveQuery{Max: s.cfg.MAMPageSize, Count: true}
	flip := false
	for _, c := range p.ChildElements() {
		var err error
		switch {
		case c.Space == nsData && c.Local == "x":
			err = mamFields(&q, formValues(c))
		case c.Space == nsRSM && c.Local == "set":
			err = s.mamRSM(&q, c)
		case c.Space == NSMAM && c.Local == "flip-page":
			flip = true
		default:
			err = errorf(stanza.BadRequest, "unknown element {%s}%s in the query", c.Space, c.Local)
		}
		if err != nil {
			return q, false, err
		}
	}
	if !q.Start.IsZero() && !q.End.IsZero() && q.Start.After(q.End) {
		return q, false, errorf(stanza.BadRequest, "start is after end")
	}
	return q, flip, nil
}

func mamFields(q *storage.ArchiveQuery, vals map[string][]string) error {
	for k, vs := range vals {
		v := ""
		if len(vs) > 0 {
			v = strings.TrimSpace(vs[0])
		}
		var err error
		switch k {
		case "FORM_TYPE":
			if v != NSMAM {
				return errorf(stanza.BadRequest, "FORM_TYPE must be %s", NSMAM)
			}
		case "with":
			if v != "" {
				if q.With, err = jid.Parse(v); err != nil {
					return errorf(stanza.JIDMalformed, "with: %v", err)
				}
			}
		case "start", "end":
			var t time.Time
			if v != "" {
				if t, err = time.Parse(time.RFC3339Nano, v); err != nil {
					return errorf(stanza.BadRequest, "%s: %q is not an XEP-0082 date and time", k, v)
				}
			}
			if k == "start" {
				q.Start = t
			} else {
				q.End = t
			}
		case "after-id":
			q.AfterID = v
		case "before-id":
			q.BeforeID = v
		case "ids":
			q.IDs = slices.DeleteFunc(slices.Clone(vs), func(s string) bool { return s == "" })
		default:
			return errorf(stanza.BadRequest, "unknown field %q", k)
		}
	}
	return nil
}

// mamRSM reads the XEP-0059 set: max (capped), after, before (empty: the
// last page).
func (s *Service) mamRSM(q *storage.ArchiveQuery, set *stanza.Element) error {
	for _, c := range set.ChildElements() {
		if c.Space != nsRSM {
			continue
		}
		switch c.Local {
		case "max":
			n, err := strconv.Atoi(strings.TrimSpace(c.Text()))
			if err != nil || n < 0 {
				return errorf(stanza.BadRequest, "RSM max %q is not a number", c.Text())
			}
			q.Max = min(max(n, 1), s.cfg.MAMMaxPage)
		case "after":
			q.After = c.Text()
		case "before":
			q.Before, q.Backward = c.Text(), true
		}
	}
	return nil
}
