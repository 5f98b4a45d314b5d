package muc

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
)

// member is one session (a full JID) of an occupant. Several sessions of
// one user may share a nickname (§7.2, multi-session).
type member struct {
	real    jid.JID
	realStr string
	// pres is the session's latest available presence as the client sent
	// it, without the MUC <x/>: its children are broadcast.
	pres *stanza.Element
}

// occupant is one user in a room under one nickname, with one or more
// sessions.
type occupant struct {
	nick    string
	nickJID jid.JID // room@service/nick
	nickStr string
	bare    jid.JID
	// real, realStr and pres are those of the shown session: the one
	// whose presence the room broadcasts (the latest to join or to change
	// its presence).
	real    jid.JID
	realStr string
	pres    *stanza.Element
	members []*member // in join order
	role    Role
	occID   string // XEP-0421 occupant id
	rate    bucket // groupchat messages (Config.MessageRate)
}

// show makes m the shown session of o.
func (o *occupant) show(m *member) { o.real, o.realStr, o.pres = m.real, m.realStr, m.pres }

// member returns o's session at full, or nil.
func (o *occupant) member(full jid.JID) *member {
	for _, m := range o.members {
		if m.real == full {
			return m
		}
	}
	return nil
}

// room is one chat room. Every field below mu is guarded by it.
type room struct {
	svc    *Service
	jid    jid.JID
	jidStr string
	// secret keys the room's occupant ids (XEP-0421); it is stored with a
	// persistent room so that the ids survive a restart. Set once.
	secret []byte
	// hist is the in-memory history cache; it has its own lock (a leaf,
	// taken after mu) so that the service can evict it from any room.
	hist *history
	// present is len(list), readable without mu (eviction order).
	present atomic.Int32
	// persistent mirrors cfg.Persistent, readable without mu: persistent
	// rooms are archived.
	persistent atomic.Bool
	// saveMu serialises this room's database writes, which run after mu
	// is released; saved is the version last written.
	saveMu sync.Mutex
	saved  uint64

	mu        sync.Mutex
	gone      bool // destroyed or emptied: look the room up again
	locked    bool // created, not yet configured (§10.1.1)
	creator   jid.JID
	cfg       RoomConfig
	affs      map[jid.JID]Affiliation // bare JID (or domain) → affiliation, never AffNone
	reasons   map[jid.JID]string
	regs      map[jid.JID]string // registered bare JID → reserved nickname (§7.10)
	list      []*occupant        // in join order
	byNick    map[string]*occupant
	byJID     map[jid.JID]*occupant // every session's full JID
	subject   string
	subjectBy string // nickname, "" for the room
	// ver counts changes of what is stored; op is the write waiting for
	// the lock to be released (see unlock).
	ver uint64
	op  *persistOp
	// apending are the groupchat messages waiting for the archive, in
	// order; aflushing says a caller is writing them (archive.go), and
	// flushMine that the current lock holder became it.
	apending  []*pendingMsg
	aflushing bool
	flushMine bool
	// pm is a private message waiting to be archived for its recipient
	// and delivered once the lock is released (private.go).
	pm *privateOut
}

func (s *Service) newRoom(j jid.JID) *room {
	secret := make([]byte, 32)
	randRead(secret)
	r := &room{
		svc: s, jid: j, jidStr: j.String(), cfg: defaultConfig(s.cfg.MaxOccupants), secret: secret,
		affs: map[jid.JID]Affiliation{}, reasons: map[jid.JID]string{}, regs: map[jid.JID]string{},
		byNick: map[string]*occupant{}, byJID: map[jid.JID]*occupant{},
		hist: s.cache.newHistory(),
	}
	r.hist.room = r
	return r
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

// occupantID returns the XEP-0421 id of a user in this room: the same for
// every resource of the user, and across restarts for a persistent room
// (the room's secret is stored with it).
func (r *room) occupantID(real jid.JID) string {
	m := hmac.New(sha256.New, r.secret)
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

// sendOcc delivers el to every session of o.
func (r *room) sendOcc(ctx context.Context, o *occupant, el *stanza.Element) {
	for _, m := range o.members {
		r.send(ctx, m.real, m.realStr, el)
	}
}

// broadcastPresence sends o's presence to every occupant: the version
// with its real JID to those who may see it, to o's sessions with status
// 110 (and selfCodes). edit, when set, changes each built element (the
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
		r.sendOcc(ctx, rc, p)
	}
	self := build(true, append(append([]int{110}, codes...), selfCodes...))
	r.sendOcc(ctx, o, self)
}

// userX returns the muc#user <x/> of a presence built by presence.
func userX(p *stanza.Element) *stanza.Element { return p.Child(NSUser, "x") }

// addOccupant puts o (with its one session) in the room's tables.
func (r *room) addOccupant(o *occupant) {
	r.list = append(r.list, o)
	r.byNick[o.nick] = o
	for _, m := range o.members {
		r.byJID[m.real] = o
		r.svc.track(m.real, r, true)
	}
	r.present.Store(int32(len(r.list)))
	mOccupants.Inc()
}

// addMember adds another session to o.
func (r *room) addMember(o *occupant, m *member) {
	o.members = append(o.members, m)
	o.show(m)
	r.byJID[m.real] = o
	r.svc.track(m.real, r, true)
}

// removeMember takes one session out of o, which keeps at least one.
func (r *room) removeMember(o *occupant, m *member) {
	for i, x := range o.members {
		if x == m {
			o.members = append(o.members[:i:i], o.members[i+1:]...)
			break
		}
	}
	delete(r.byJID, m.real)
	r.svc.track(m.real, r, false)
	if o.real == m.real {
		o.show(o.members[len(o.members)-1])
	}
}

// removeOccupant takes o, with all its sessions, out of the room's tables.
func (r *room) removeOccupant(o *occupant) {
	for i, x := range r.list {
		if x == o {
			r.list = append(r.list[:i:i], r.list[i+1:]...)
			break
		}
	}
	delete(r.byNick, o.nick)
	for _, m := range o.members {
		delete(r.byJID, m.real)
		r.svc.track(m.real, r, false)
	}
	r.present.Store(int32(len(r.list)))
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
	r.emptied()
}

// leaveSession takes one session of o out of the room (§7.14). With other
// sessions left, only the leaving one gets the unavailable presence and
// everyone sees o's presence as its remaining sessions now show it;
// otherwise o leaves.
func (r *room) leaveSession(ctx context.Context, o *occupant, full jid.JID, edit func(*stanza.Element)) {
	m := o.member(full)
	if m == nil {
		return
	}
	if len(o.members) == 1 {
		r.leaveWith(ctx, o, nil, edit)
		return
	}
	p := r.presence(o, "unavailable", true, 110)
	if edit != nil {
		edit(p)
	}
	r.send(ctx, m.real, m.realStr, p)
	r.removeMember(o, m)
	r.broadcastPresence(ctx, o, "", nil, nil, nil)
}

// emptied drops a temporary room without occupants, and releases the
// history cache of an empty room whose history the archive keeps.
func (r *room) emptied() {
	if len(r.list) != 0 || r.gone {
		return
	}
	if !r.cfg.Persistent {
		r.gone = true
		r.svc.dropRoom(r)
		return
	}
	if r.svc.archiving(r) {
		r.hist.release()
	}
}

// stampNow is the time used for history; a variable for tests.
var stampNow = time.Now
