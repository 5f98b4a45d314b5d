package muc

import (
	"context"
	"slices"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
)

// toRoom handles stanzas to a room's bare JID.
func (s *Service) toRoom(ctx context.Context, from, to jid.JID, el *stanza.Element) error {
	switch el.Local {
	case stanza.KindPresence:
		switch el.Attr("type") {
		case "", "unavailable":
			return errorf(stanza.JIDMalformed, "a nickname is required: send presence to room@service/nick")
		}
		return nil
	case stanza.KindIQ:
		return s.roomIQ(ctx, from, to, el)
	}
	r, err := s.lockRoom(to, from)
	if err != nil {
		return err
	}
	return r.unlock(ctx, r.roomMessage(ctx, from, el))
}

// roomMessage handles a message to the room's bare JID (r.mu held):
// groupchat, mediated invitations and declines (§7.8.2), voice requests
// and their approval (§8.6).
func (r *room) roomMessage(ctx context.Context, from jid.JID, el *stanza.Element) error {
	switch el.Attr("type") {
	case "groupchat":
		return r.groupchat(ctx, from, el)
	case stanza.TypeError:
		return nil
	}
	if x := el.Child(NSUser, "x"); x != nil {
		switch {
		case x.Child(NSUser, "invite") != nil:
			return r.invite(ctx, from, x)
		case x.Child(NSUser, "decline") != nil:
			return r.decline(ctx, from, x.Child(NSUser, "decline"))
		}
	}
	if f := el.Child(nsData, "x"); f != nil && formType(f) == NSRequest {
		return r.voiceForm(ctx, from, f)
	}
	return errorf(stanza.BadRequest, "only groupchat messages, invitations, declines and voice requests go to the room")
}

// invite forwards mediated invitations from an occupant (§7.8.2): the
// invitee gets a message from the room naming the inviter's real JID,
// with the room's password if it has one. In a members-only room, an
// admin's invitation makes the invitee a member.
func (r *room) invite(ctx context.Context, from jid.JID, x *stanza.Element) error {
	o := r.byJID[from]
	if o == nil {
		return errorf(stanza.NotAcceptable, "only occupants may invite")
	}
	if r.cfg.MembersOnly && r.affiliation(from) < AffAdmin {
		return errorf(stanza.Forbidden, "only admins may invite to a members-only room")
	}
	var invites []*stanza.Element
	for _, inv := range x.ChildElements() {
		if inv.Space != NSUser || inv.Local != "invite" {
			continue
		}
		to, err := jid.Parse(inv.Attr("to"))
		if err != nil || to.IsZero() {
			return errorf(stanza.JIDMalformed, "an invitation needs a valid 'to'")
		}
		ux := stanza.New(NSUser, "x")
		fwd := stanza.New(NSUser, "invite").SetAttr("from", from.String())
		if reason := inv.Child(NSUser, "reason"); reason != nil {
			fwd.Append(stanza.New(NSUser, "reason").AppendText(reason.Text()))
		}
		ux.Append(fwd)
		if r.cfg.PasswordProtected {
			ux.Append(stanza.New(NSUser, "password").AppendText(r.cfg.Password))
		}
		m := stanza.New(stanza.NSClient, stanza.KindMessage).SetAttr("from", r.jidStr).SetAttr("id", r.svc.newID()).Append(ux)
		invites = append(invites, m.SetAttr("to", to.String()))
		if r.cfg.MembersOnly && r.affiliation(to) == AffNone {
			r.affs[to.Bare()] = AffMember
		}
	}
	for _, m := range invites {
		to, _ := jid.Parse(m.Attr("to"))
		r.svc.host.Deliver(ctx, to, m)
	}
	r.save(ctx)
	return nil
}

// lockRoom returns the room at j locked, or item-not-found. A locked
// room (being created) exists only for its owner (§10.1.1).
func (s *Service) lockRoom(j, from jid.JID) (*room, error) {
	for {
		r := s.room(j)
		if r == nil {
			return nil, errorf(stanza.ItemNotFound, "no such room")
		}
		r.mu.Lock()
		if r.gone {
			r.mu.Unlock()
			continue
		}
		if r.locked && r.affiliation(from) != AffOwner {
			r.mu.Unlock()
			return nil, errorf(stanza.ItemNotFound, "no such room")
		}
		return r, nil
	}
}

// groupchat broadcasts a message of an occupant to every occupant, the
// sender included (§7.4), or changes the subject (§8.1).
func (r *room) groupchat(ctx context.Context, from jid.JID, el *stanza.Element) error {
	mGroupchatIn.Inc()
	o := r.byJID[from]
	switch {
	case o == nil:
		return errorf(stanza.NotAcceptable, "only occupants may send messages to the room")
	case o.role < RoleParticipant:
		return errorf(stanza.Forbidden, "visitors have no voice in this moderated room")
	case !o.rate.allow(stampNow(), r.svc.cfg.MessageRate, r.svc.cfg.MessageBurst):
		mRateLimited.Inc()
		return errorf(stanza.ResourceConstraint,
			"you are sending messages too fast (at most %g a second); wait and send again", r.svc.cfg.MessageRate)
	}
	subj := el.Child("", "subject")
	if subj != nil && el.Child("", "body") == nil && el.Child("", "thread") == nil {
		return r.changeSubject(ctx, o, el, subj.Text())
	}
	return r.keep(ctx, r.stamp(el, o), o)
}

// stamp turns a client's message into the room's: from the nickname,
// without 'to' and without ids the room did not give, with a stanza id by
// the room and the occupant id (XEP-0359 §3.1, XEP-0421).
func (r *room) stamp(el *stanza.Element, o *occupant) *stanza.Element {
	m := stanza.New(el.Space, el.Local)
	m.Attrs = make([]stanza.Attr, 0, len(el.Attrs)+1)
	for _, a := range el.Attrs {
		if a.Space == "" && (a.Local == "from" || a.Local == "to") {
			continue
		}
		m.Attrs = append(m.Attrs, a)
	}
	m.Attrs = append(m.Attrs, stanza.Attr{Local: "from", Value: o.nickStr})
	m.Children = make([]stanza.Node, 0, len(el.Children)+2)
	for _, n := range el.Children {
		if c := n.El; c != nil && (c.Space == nsOccupant || c.Space == nsStanzaID && c.Attr("by") == r.jidStr) {
			continue
		}
		m.Children = append(m.Children, n)
	}
	m.Append(stanza.New(nsOccupant, "occupant-id").SetAttr("id", o.occID))
	return m
}

// fanOut delivers m to every occupant (r.mu held: one order per room).
// The same element goes to every local recipient with only 'to' changed.
func (r *room) fanOut(ctx context.Context, m *stanza.Element) {
	n := 0
	for _, rc := range r.list {
		r.sendOcc(ctx, rc, m)
		n += len(rc.members)
	}
	mDeliveries.Add(float64(n))
	m.RemoveAttr("to")
}

// changeSubject sets the subject if o may (§8.1) and tells everyone.
func (r *room) changeSubject(ctx context.Context, o *occupant, el *stanza.Element, subject string) error {
	if o.role != RoleModerator && !(r.cfg.ChangeSubject && o.role >= RoleParticipant) {
		return errorf(stanza.Forbidden, "you may not change the subject")
	}
	r.subject, r.subjectBy = subject, o.nick
	m := r.stamp(el, o)
	m.Append(stanza.New(nsStanzaID, "stanza-id").SetAttr("by", r.jidStr).SetAttr("id", r.svc.newID()))
	r.fanOut(ctx, m)
	r.save(ctx)
	return nil
}

// toOccupant handles stanzas to room@service/nick.
func (s *Service) toOccupant(ctx context.Context, from, to jid.JID, el *stanza.Element) error {
	if el.Local == stanza.KindPresence {
		return s.roomPresence(ctx, from, to, el)
	}
	r, err := s.lockRoom(to.Bare(), from)
	if err != nil {
		if el.Local == stanza.KindIQ && (el.Attr("type") == stanza.Result || el.Attr("type") == stanza.TypeError) {
			return nil
		}
		return err
	}
	if el.Local == stanza.KindIQ {
		return r.unlock(ctx, r.iqToOccupant(ctx, from, to, el))
	}
	return r.unlock(ctx, r.privateMessage(ctx, from, to, el))
}

// privateMessage forwards a message to one occupant (§7.5).
func (r *room) privateMessage(ctx context.Context, from, to jid.JID, el *stanza.Element) error {
	typ := el.Attr("type")
	sender, target := r.byJID[from], r.byNick[to.Resource()]
	switch {
	case typ == stanza.TypeError:
		return nil
	case sender == nil:
		return errorf(stanza.NotAcceptable, "only occupants may send private messages")
	case typ == "groupchat":
		return errorf(stanza.BadRequest, "groupchat messages go to the room, not to an occupant")
	case target == nil:
		return errorf(stanza.ItemNotFound, "no occupant with that nickname")
	case !r.mayPM(sender):
		return errorf(stanza.Forbidden, "private messages are not allowed in this room")
	}
	m := r.stamp(el, sender)
	if m.Child(NSUser, "x") == nil {
		m.Append(stanza.New(NSUser, "x"))
	}
	if r.svc.cfg.ArchivePrivate != nil && r.svc.host.IsLocal(target.bare.Domain()) {
		r.pm = &privateOut{m: m, from: sender.nickJID, owner: target.bare, to: slices.Clone(target.members)}
		return nil
	}
	r.sendOcc(ctx, target, m)
	return nil
}

func (r *room) mayPM(o *occupant) bool {
	switch r.cfg.AllowPM {
	case "none":
		return false
	case "moderators":
		return o.role == RoleModerator
	case "participants":
		return o.role >= RoleParticipant
	}
	return true
}
