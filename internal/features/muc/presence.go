package muc

import (
	"context"
	"slices"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
)

// roomPresence handles presence to room@service/nick: entering (§7.2),
// changing nickname (§7.6) or presence (§7.7), leaving (§7.14).
func (s *Service) roomPresence(ctx context.Context, from, to jid.JID, el *stanza.Element) error {
	typ := el.Attr("type")
	switch typ {
	case "", "unavailable", stanza.TypeError:
	default:
		return nil // subscriptions and probes mean nothing to a room
	}
	for {
		r := s.room(to.Bare())
		if r == nil {
			if typ != "" {
				return nil
			}
			created, err := s.create(ctx, from, to, el)
			if err != nil || created {
				return err
			}
			continue // someone else created it meanwhile
		}
		if typ == "" {
			r.warmHistory(ctx) // before the lock: the archive is read without it
		}
		r.mu.Lock()
		if r.gone {
			r.mu.Unlock()
			continue
		}
		err := r.presenceLocked(ctx, from, to, el, typ)
		return r.unlock(ctx, err)
	}
}

// presenceLocked handles a presence for an existing room (r.mu held).
func (r *room) presenceLocked(ctx context.Context, from, to jid.JID, el *stanza.Element, typ string) error {
	o := r.byJID[from]
	switch {
	case o == nil && typ == "":
		return r.join(ctx, from, to, el, false)
	case o == nil:
		return nil
	case typ == stanza.TypeError:
		r.leaveSession(ctx, o, from, nil) // the user's client or server bounced the room: it is gone (§7.14)
		return nil
	case typ == "unavailable":
		r.leaveSession(ctx, o, from, func(p *stanza.Element) {
			if st := el.Child("", "status"); st != nil {
				p.Children = append([]stanza.Node{{El: st}}, p.Children...)
			}
		})
		return nil
	case to.Resource() != o.nick:
		return r.changeNick(ctx, o, from, to, el)
	}
	m := o.member(from)
	m.pres = clientPayload(el)
	o.show(m)
	r.broadcastPresence(ctx, o, "", nil, nil, nil)
	return nil
}

// clientPayload keeps what the client said in its presence (show, status,
// priority, caps...) minus the MUC elements and anything the room adds.
func clientPayload(el *stanza.Element) *stanza.Element {
	p := stanza.New(el.Space, el.Local)
	for _, n := range el.Children {
		c := n.El
		if c == nil {
			continue
		}
		switch c.Space {
		case NS, NSUser, nsOccupant, nsDelay:
			continue
		}
		p.Children = append(p.Children, stanza.Node{El: c})
	}
	return p
}

// create makes the room at to.Bare() for its first occupant (§10.1.1),
// who becomes its owner. It reports false when another creator won.
func (s *Service) create(ctx context.Context, from, to jid.JID, el *stanza.Element) (bool, error) {
	if !s.mayCreate(from, to.Domain()) {
		return true, errorf(stanza.NotAllowed, "you may not create rooms here")
	}
	if to.Local() == "" {
		return true, errorf(stanza.JIDMalformed, "a room needs a name")
	}
	if !s.countCreated(from.Bare(), 1) {
		return true, errorf(stanza.ResourceConstraint,
			"you have created the most rooms allowed (%d); destroy one first", s.cfg.MaxRoomsPerUser)
	}
	r := s.newRoom(to.Bare())
	r.creator = from.Bare()
	r.mu.Lock()
	if s.addRoom(r) != r {
		r.mu.Unlock()
		s.countCreated(from.Bare(), -1)
		return false, nil
	}
	r.affs[from.Bare()] = AffOwner
	// A client that does not speak MUC (no <x/>) gets an instant room
	// (§10.1.1, groupchat 1.0 compatibility).
	r.locked = el.Child(NS, "x") != nil
	if err := r.join(ctx, from, to, el, true); err != nil {
		r.gone = true
		s.dropRoom(r)
		r.mu.Unlock()
		return true, err
	}
	return true, r.unlock(ctx, nil)
}

// join enters from into the room as to.Resource() (§7.2); created is set
// for the room's creator. Another session of an occupant's user with the
// same nickname joins that occupant (multi-session).
func (r *room) join(ctx context.Context, from, to jid.JID, el *stanza.Element, created bool) error {
	aff := r.affiliation(from)
	x := el.Child(NS, "x")
	nick := to.Resource()
	if err := r.mayEnter(from, nick, aff, x); err != nil {
		return err
	}
	m := &member{real: from, realStr: from.String(), pres: clientPayload(el)}
	if o := r.byNick[nick]; o != nil {
		r.joinSession(ctx, o, m, x)
		return nil
	}
	o := &occupant{
		nick: nick, nickJID: to, nickStr: to.String(), bare: from.Bare(), members: []*member{m},
		role: r.defaultRole(aff), occID: r.occupantID(from),
	}
	o.show(m)
	// The others' presence first, then everyone learns of the newcomer,
	// who gets its own last (§7.2.3).
	seeJIDs := r.cfg.NonAnonymous() || o.role == RoleModerator
	for _, other := range r.list {
		r.send(ctx, from, m.realStr, r.presence(other, "", seeJIDs))
	}
	r.addOccupant(o)
	var self []int
	if r.cfg.NonAnonymous() {
		self = append(self, 100)
	}
	if created {
		self = append(self, 201)
	}
	r.broadcastPresence(ctx, o, "", nil, self, nil)
	if !created {
		r.sendHistory(ctx, m, parseLimits(x, stampNow()))
	}
	r.sendSubject(ctx, m)
	return nil
}

// joinSession adds a session to an occupant (§7.2 multi-session): the new
// session gets the others' presence, the room's view of the occupant now
// shows it, and it gets the history and the subject. The occupant is
// still one, under one nickname, with one role.
func (r *room) joinSession(ctx context.Context, o *occupant, m *member, x *stanza.Element) {
	seeJIDs := r.seesJID(o)
	for _, other := range r.list {
		if other != o {
			r.send(ctx, m.real, m.realStr, r.presence(other, "", seeJIDs))
		}
	}
	r.addMember(o, m)
	var self []int
	if r.cfg.NonAnonymous() {
		self = append(self, 100)
	}
	r.broadcastPresence(ctx, o, "", nil, self, nil)
	r.sendHistory(ctx, m, parseLimits(x, stampNow()))
	r.sendSubject(ctx, m)
}

// mayEnter applies the entry rules of §7.2.6-§7.2.11 in the order the XEP
// gives, with reserved nicknames (§7.12) and the service's limits.
func (r *room) mayEnter(from jid.JID, nick string, aff Affiliation, x *stanza.Element) error {
	switch {
	case r.locked && aff != AffOwner:
		return errorf(stanza.ItemNotFound, "the room is being created and is locked")
	case nick == "":
		return errorf(stanza.JIDMalformed, "a nickname is required")
	case aff == AffOutcast:
		return errorf(stanza.Forbidden, "you are banned from this room")
	case r.cfg.MembersOnly && aff < AffMember:
		return errorf(stanza.RegistrationRequired, "the room is for members only")
	}
	if err := r.nickFree(from, nick); err != nil {
		return err
	}
	if r.byNick[nick] == nil && len(r.list) >= r.cfg.MaxUsers && aff < AffAdmin {
		return errorf(stanza.ServiceUnavailable, "the room is full (%d occupants)", r.cfg.MaxUsers)
	}
	if r.cfg.PasswordProtected && aff < AffAdmin {
		if x == nil || x.ChildText(NS, "password") != r.cfg.Password {
			return errorf(stanza.NotAuthorized, "a password is required")
		}
	}
	return nil
}

// nickFree reports conflict when nick belongs to another user: an
// occupant of another user has it, or another user registered it
// (§7.2.9, §7.12).
func (r *room) nickFree(from jid.JID, nick string) error {
	if o := r.byNick[nick]; o != nil && o.bare != from.Bare() {
		return errorf(stanza.Conflict, "the nickname is in use")
	}
	if owner := r.nickOwner(nick); !owner.IsZero() && owner != from.Bare() {
		return errorf(stanza.Conflict, "the nickname is reserved by another user")
	}
	return nil
}

// nickOwner returns the user who registered nick, or the zero JID.
func (r *room) nickOwner(nick string) jid.JID {
	for j, n := range r.regs {
		if n == nick {
			return j
		}
	}
	return jid.JID{}
}

// changeNick renames o to to.Resource() (§7.6): unavailable with 303 and
// the new nick, then available under the new one. Every session of o
// follows.
func (r *room) changeNick(ctx context.Context, o *occupant, from, to jid.JID, el *stanza.Element) error {
	nick := to.Resource()
	if other := r.byNick[nick]; other != nil && other != o {
		return errorf(stanza.Conflict, "the nickname is in use")
	}
	if owner := r.nickOwner(nick); !owner.IsZero() && owner != o.bare {
		return errorf(stanza.Conflict, "the nickname is reserved by another user")
	}
	r.broadcastPresence(ctx, o, "unavailable", []int{303}, nil, func(p *stanza.Element) {
		userX(p).FirstChild().SetAttr("nick", nick)
	})
	delete(r.byNick, o.nick)
	o.nick, o.nickJID, o.nickStr = nick, to, to.String()
	r.byNick[nick] = o
	m := o.member(from)
	m.pres = clientPayload(el)
	o.show(m)
	r.broadcastPresence(ctx, o, "", nil, nil, nil)
	return nil
}

// sendHistory replays the history m asked for (§7.2.15).
func (r *room) sendHistory(ctx context.Context, m *member, l limits) {
	for _, e := range r.history(ctx, l) {
		r.svc.host.Deliver(ctx, m.real, e.delayed(r.jidStr, m.realStr))
	}
}

// sendSubject sends the subject, empty if none, after the history
// (§7.2.16).
func (r *room) sendSubject(ctx context.Context, m *member) {
	from := r.jidStr
	if r.subjectBy != "" {
		from = r.jidStr + "/" + r.subjectBy
	}
	msg := stanza.New(stanza.NSClient, stanza.KindMessage).SetAttr("from", from).SetAttr("type", "groupchat").
		SetAttr("id", r.svc.newID())
	msg.Append(stanza.New(stanza.NSClient, "subject").AppendText(r.subject))
	r.send(ctx, m.real, m.realStr, msg)
}

// occupantsOf returns the occupants whose real bare JID is user.
func (r *room) occupantsOf(user jid.JID) []*occupant {
	var out []*occupant
	for _, o := range r.list {
		if o.bare == user || (user.IsDomain() && o.bare.Domain() == user.Domain()) {
			out = append(out, o)
		}
	}
	return slices.Clip(out)
}
