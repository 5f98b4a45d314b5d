package muc

import (
	"context"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
)

// ownerQuery handles muc#owner: the configuration form (§10.1-§10.2) and
// destruction (§10.9). Only owners may.
func (r *room) ownerQuery(ctx context.Context, from jid.JID, q *stanza.Element, get bool) (*stanza.Element, error) {
	if r.affiliation(from) != AffOwner {
		return nil, errorf(stanza.Forbidden, "only owners may configure the room")
	}
	if get {
		return stanza.New(NSOwner, "query").Append(configForm(r.cfg, r.svc.cfg.MaxOccupants, r.jidStr)), nil
	}
	if d := q.Child(NSOwner, "destroy"); d != nil {
		r.destroy(ctx, d)
		return nil, nil
	}
	x := q.Child(nsData, "x")
	if x == nil {
		return nil, errorf(stanza.BadRequest, "expected a configuration form or <destroy/>")
	}
	switch x.Attr("type") {
	case "cancel":
		if r.locked { // cancelling the creation destroys the room (§10.1.3)
			r.destroy(ctx, nil)
		}
		return nil, nil
	case "submit":
		return nil, r.configure(ctx, x)
	}
	return nil, errorf(stanza.BadRequest, "the form must be a submit or a cancel")
}

// configure applies a submitted form; an empty one accepts the current
// configuration (an instant room, §10.1.2). It unlocks a new room.
func (r *room) configure(ctx context.Context, x *stanza.Element) error {
	c, err := applyConfig(r.cfg, x, r.svc.cfg.MaxOccupants)
	if err != nil {
		return err
	}
	old, wasLocked := r.cfg, r.locked
	r.cfg, r.locked = c, false
	r.persistent.Store(c.Persistent)
	switch {
	case c.Persistent:
		r.save(ctx)
	case old.Persistent:
		r.forget(ctx)
	}
	if !wasLocked {
		codes := []int{104}
		if c.Whois != old.Whois {
			if c.NonAnonymous() {
				codes = append(codes, 172)
			} else {
				codes = append(codes, 173)
			}
		}
		r.notify(ctx, codes...)
	}
	if c.MembersOnly && !old.MembersOnly {
		for _, o := range append([]*occupant(nil), r.list...) {
			if r.affiliation(o.real) < AffMember {
				r.leave(ctx, o, []int{322})
			}
		}
	}
	r.emptied()
	return nil
}

// notify sends every occupant a message from the room with status codes
// (§10.2.1).
func (r *room) notify(ctx context.Context, codes ...int) {
	x := stanza.New(NSUser, "x")
	for _, c := range codes {
		x.Append(status(c))
	}
	m := stanza.New(stanza.NSClient, stanza.KindMessage).SetAttr("from", r.jidStr).SetAttr("type", "groupchat").
		SetAttr("id", r.svc.newID()).Append(x)
	for _, o := range r.list {
		r.sendOcc(ctx, o, m)
	}
}

// destroy ends the room (§10.9): every occupant gets an unavailable
// presence carrying <destroy/> (with the owner's alternate venue and
// reason), and a persistent room is deleted from storage.
func (r *room) destroy(ctx context.Context, d *stanza.Element) {
	ud := stanza.New(NSUser, "destroy")
	if d != nil {
		if j := d.Attr("jid"); j != "" {
			ud.SetAttr("jid", j)
		}
		if reason := d.Child("", "reason"); reason != nil {
			ud.Append(stanza.New(NSUser, "reason").AppendText(reason.Text()))
		}
	}
	for _, o := range append([]*occupant(nil), r.list...) {
		p := stanza.New(stanza.NSClient, stanza.KindPresence).SetAttr("from", o.nickStr).SetAttr("type", "unavailable")
		p.Append(stanza.New(NSUser, "x").Append(
			stanza.New(NSUser, "item").SetAttr("affiliation", "none").SetAttr("role", "none"), ud))
		r.sendOcc(ctx, o, p)
		r.removeOccupant(o)
	}
	if r.cfg.Persistent {
		r.forget(ctx)
	}
	r.gone = true
	r.svc.dropRoom(r)
}
