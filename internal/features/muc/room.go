package muc

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"sync"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
)

// occupant is one user in a room under one nickname.
type occupant struct {
	nick    string
	nickJID jid.JID // room@service/nick
	nickStr string
	real    jid.JID // the user's full JID
	realStr string
	role    Role
	// pres is the occupant's latest available presence as the client
	// sent it, without the MUC <x/>: its children are broadcast.
	pres  *stanza.Element
	occID string // XEP-0421 occupant id
}

// room is one chat room. Every field is guarded by mu.
type room struct {
	svc    *Service
	jid    jid.JID
	jidStr string

	mu        sync.Mutex
	gone      bool // destroyed or emptied: look the room up again
	locked    bool // created, not yet configured (§10.1.1)
	cfg       RoomConfig
	affs      map[jid.JID]Affiliation // bare JID (or domain) → affiliation, never AffNone
	reasons   map[jid.JID]string
	list      []*occupant // in join order
	byNick    map[string]*occupant
	byJID     map[jid.JID]*occupant
	hist      history
	subject   string
	subjectBy string // nickname, "" for the room
}

func (s *Service) newRoom(j jid.JID) *room {
	return &room{
		svc: s, jid: j, jidStr: j.String(), cfg: defaultConfig(s.cfg.MaxOccupants),
		affs: map[jid.JID]Affiliation{}, reasons: map[jid.JID]string{},
		byNick: map[string]*occupant{}, byJID: map[jid.JID]*occupant{},
		hist: newHistory(s.cfg.HistorySize),
	}
}

// affiliation returns the affiliation of a real JID (by bare JID, then
// by domain).
func (r *room) affiliation(real jid.JID) Affiliation {
	if a, ok := r.affs[real.Bare()]; ok {
		return a
	}
	if a, ok := r.affs[real.DomainJID()]; ok {
		return a
	}
	return AffNone
}

// defaultRole is the role an occupant with affiliation a gets (§5.1.2).
func (r *room) defaultRole(a Affiliation) Role {
	switch {
	case a >= AffAdmin:
		return RoleModerator
	case a == AffMember || !r.cfg.Moderated:
		return RoleParticipant
	}
	return RoleVisitor
}

// occupantID returns the XEP-0421 id of a user in this room: stable for
// the life of the service, the same for every resource of the user.
func (r *room) occupantID(real jid.JID) string {
	m := hmac.New(sha256.New, r.svc.occKey)
	m.Write([]byte(r.jidStr))
	m.Write([]byte{0})
	m.Write([]byte(real.Bare().String()))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// seesJID reports whether rcpt may see real JIDs (§5.1.1, whois).
func (r *room) seesJID(rcpt *occupant) bool {
	return r.cfg.NonAnonymous() || rcpt.role == RoleModerator
}

// presence builds o's presence as the room broadcasts it: the client's
// payload, the MUC <x/> with o's item (and real JID when withJID) and the
// status codes, and the occupant id. typ is "" or "unavailable".
func (r *room) presence(o *occupant, typ string, withJID bool, codes ...int) *stanza.Element {
	p := stanza.New(stanza.NSClient, stanza.KindPresence).SetAttr("from", o.nickStr)
	if typ != "" {
		p.SetAttr("type", typ)
	} else if o.pres != nil {
		p.Children = append(p.Children, o.pres.Children...)
	}
	role := o.role
	if typ == "unavailable" {
		role = RoleNone
	}
	item := stanza.New(NSUser, "item").SetAttr("affiliation", r.affiliation(o.real).String()).SetAttr("role", role.String())
	if withJID {
		item.SetAttr("jid", o.realStr)
	}
	x := stanza.New(NSUser, "x").Append(item)
	for _, c := range codes {
		x.Append(status(c))
	}
	p.Append(x)
	return p.Append(stanza.New(nsOccupant, "occupant-id").SetAttr("id", o.occID))
}

func status(code int) *stanza.Element {
	return stanza.New(NSUser, "status").SetAttr("code", strconv.Itoa(code))
}

// send delivers el to one real JID. Local recipients get el itself with
// 'to' set (delivery serialises it at once); others a copy, since a remote
// route may keep the element.
func (r *room) send(ctx context.Context, to jid.JID, toStr string, el *stanza.Element) {
	if !r.svc.host.IsLocal(to.Domain()) {
		el = el.Copy()
	}
	el.SetAttr("to", toStr)
	r.svc.host.Deliver(ctx, to, el)
}

// broadcastPresence sends o's presence to every occupant: the version
// with its real JID to those who may see it, to o itself with status 110
// (and selfCodes). edit, when set, changes each built element (the
// <x/> is its second-last child).
func (r *room) broadcastPresence(ctx context.Context, o *occupant, typ string, codes, selfCodes []int, edit func(*stanza.Element)) {
	var anon, full *stanza.Element
	build := func(withJID bool, cs []int) *stanza.Element {
		p := r.presence(o, typ, withJID, cs...)
		if edit != nil {
			edit(p)
		}
		return p
	}
	for _, rc := range r.list {
		if rc == o {
			continue
		}
		var p *stanza.Element
		if r.seesJID(rc) {
			if full == nil {
				full = build(true, codes)
			}
			p = full
		} else {
			if anon == nil {
				anon = build(false, codes)
			}
			p = anon
		}
		r.send(ctx, rc.real, rc.realStr, p)
	}
	self := build(true, append(append([]int{110}, codes...), selfCodes...))
	r.send(ctx, o.real, o.realStr, self)
}

// userX returns the muc#user <x/> of a presence built by presence.
func userX(p *stanza.Element) *stanza.Element { return p.Child(NSUser, "x") }

// addOccupant puts o in the room's tables.
func (r *room) addOccupant(o *occupant) {
	r.list = append(r.list, o)
	r.byNick[o.nick] = o
	r.byJID[o.real] = o
	r.svc.track(o.real, r, true)
	mOccupants.Inc()
}

// removeOccupant takes o out of the room's tables.
func (r *room) removeOccupant(o *occupant) {
	for i, x := range r.list {
		if x == o {
			r.list = append(r.list[:i:i], r.list[i+1:]...)
			break
		}
	}
	delete(r.byNick, o.nick)
	delete(r.byJID, o.real)
	r.svc.track(o.real, r, false)
	mOccupants.Dec()
}

// leave removes o and tells everyone, o with status 110 (§7.14); codes
// say why (307 kicked, 301 banned, ...); edit may add a reason or actor.
// An empty temporary room goes away.
func (r *room) leave(ctx context.Context, o *occupant, codes []int) {
	r.leaveWith(ctx, o, codes, nil)
}

func (r *room) leaveWith(ctx context.Context, o *occupant, codes []int, edit func(*stanza.Element)) {
	r.broadcastPresence(ctx, o, "unavailable", codes, nil, edit)
	r.removeOccupant(o)
	r.maybeVanish()
}

// maybeVanish drops a temporary room without occupants.
func (r *room) maybeVanish() {
	if len(r.list) == 0 && !r.cfg.Persistent && !r.gone {
		r.gone = true
		r.svc.dropRoom(r)
	}
}

// stampNow is the time used for history; a variable for tests.
var stampNow = time.Now
