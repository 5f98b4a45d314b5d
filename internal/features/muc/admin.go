package muc

import (
	"context"
	"slices"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
)

// adminQuery handles muc#admin (§8, §9, §10.3-§10.7): lists by role or
// affiliation, and role and affiliation changes.
func (r *room) adminQuery(ctx context.Context, from jid.JID, q *stanza.Element, get bool) (*stanza.Element, error) {
	var items []*stanza.Element
	for _, c := range q.ChildElements() {
		if c.Space == NSAdmin && c.Local == "item" {
			items = append(items, c)
		}
	}
	if len(items) == 0 {
		return nil, errorf(stanza.BadRequest, "expected at least one <item/>")
	}
	if get {
		if len(items) != 1 {
			return nil, errorf(stanza.BadRequest, "ask for one list at a time")
		}
		return r.listQuery(from, items[0])
	}
	changes, err := r.checkChanges(from, items)
	if err != nil {
		return nil, err
	}
	r.apply(ctx, from, changes)
	return nil, nil
}

// listQuery returns the occupants with a role or the users with an affiliation
// (§8.5, §9.5, §10.5, §10.8).
func (r *room) listQuery(from jid.JID, item *stanza.Element) (*stanza.Element, error) {
	aff := r.affiliation(from)
	q := stanza.New(NSAdmin, "query")
	if s := item.Attr("role"); s != "" {
		role, ok := parseRole(s)
		if !ok || role == RoleNone {
			return nil, errorf(stanza.BadRequest, "unknown role %q", s)
		}
		if o := r.byJID[from]; o == nil || o.role != RoleModerator {
			return nil, errorf(stanza.Forbidden, "only moderators may list roles")
		}
		for _, o := range r.list {
			if o.role == role {
				q.Append(stanza.New(NSAdmin, "item").SetAttr("nick", o.nick).SetAttr("role", role.String()).
					SetAttr("affiliation", r.affiliation(o.real).String()).SetAttr("jid", o.realStr))
			}
		}
		return q, nil
	}
	want, ok := ParseAffiliation(item.Attr("affiliation"))
	if !ok || want == AffNone {
		return nil, errorf(stanza.BadRequest, "ask for a role or an affiliation other than none")
	}
	if aff < AffAdmin {
		return nil, errorf(stanza.Forbidden, "only admins and owners may list affiliations")
	}
	var js []jid.JID
	for j, a := range r.affs {
		if a == want {
			js = append(js, j)
		}
	}
	slices.SortFunc(js, jid.JID.Compare)
	for _, j := range js {
		el := stanza.New(NSAdmin, "item").SetAttr("affiliation", want.String()).SetAttr("jid", j.String())
		if reason := r.reasons[j]; reason != "" {
			el.Append(stanza.New(NSAdmin, "reason").AppendText(reason))
		}
		q.Append(el)
	}
	return q, nil
}

// change is one checked item of an admin set.
type change struct {
	target *occupant // role changes
	role   Role
	user   jid.JID // affiliation changes
	aff    Affiliation
	isAff  bool
	reason string
}

// checkChanges validates every item before any is applied, so a set
// succeeds or fails whole.
func (r *room) checkChanges(from jid.JID, items []*stanza.Element) ([]change, error) {
	actorAff := r.affiliation(from)
	actor := r.byJID[from]
	var out []change
	affs := map[jid.JID]Affiliation{}
	for j, a := range r.affs {
		affs[j] = a
	}
	for _, it := range items {
		c := change{reason: it.ChildText(NSAdmin, "reason")}
		switch {
		case it.Attr("affiliation") != "":
			a, ok := ParseAffiliation(it.Attr("affiliation"))
			if !ok {
				return nil, errorf(stanza.BadRequest, "unknown affiliation %q", it.Attr("affiliation"))
			}
			user, err := r.itemUser(it)
			if err != nil {
				return nil, err
			}
			if err := mayChangeAffiliation(actorAff, affs[user], a); err != nil {
				return nil, err
			}
			c.user, c.aff, c.isAff = user, a, true
			if a == AffNone {
				delete(affs, user)
			} else {
				affs[user] = a
			}
		case it.Attr("role") != "":
			role, ok := parseRole(it.Attr("role"))
			if !ok {
				return nil, errorf(stanza.BadRequest, "unknown role %q", it.Attr("role"))
			}
			target := r.byNick[it.Attr("nick")]
			if target == nil {
				return nil, errorf(stanza.ItemNotFound, "no occupant with nickname %q", it.Attr("nick"))
			}
			if err := r.mayChangeRole(actor, actorAff, target, role); err != nil {
				return nil, err
			}
			c.target, c.role = target, role
		default:
			return nil, errorf(stanza.BadRequest, "an item needs a role or an affiliation")
		}
		out = append(out, c)
	}
	if !slices.Contains(mapsValues(affs), AffOwner) {
		return nil, errorf(stanza.Conflict, "a room keeps at least one owner")
	}
	return out, nil
}

func mapsValues(m map[jid.JID]Affiliation) []Affiliation {
	out := make([]Affiliation, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// itemUser is the bare JID an affiliation item is about: its jid, or the
// occupant with its nick.
func (r *room) itemUser(it *stanza.Element) (jid.JID, error) {
	if s := it.Attr("jid"); s != "" {
		j, err := jid.Parse(s)
		if err != nil {
			return jid.JID{}, errorf(stanza.JIDMalformed, "bad jid %q", s)
		}
		return j.Bare(), nil
	}
	if o := r.byNick[it.Attr("nick")]; o != nil && it.Attr("nick") != "" {
		return o.real.Bare(), nil
	}
	return jid.JID{}, errorf(stanza.BadRequest, "an affiliation item needs a jid (or an occupant's nick)")
}

// mayChangeAffiliation: admins manage members and outcasts below admin,
// owners everything (§9, §10).
func mayChangeAffiliation(actor, current, next Affiliation) error {
	switch {
	case actor < AffAdmin:
		return errorf(stanza.Forbidden, "only admins and owners may change affiliations")
	case actor == AffOwner:
		return nil
	case current >= AffAdmin || next >= AffAdmin:
		return errorf(stanza.NotAllowed, "only owners may change admins and owners")
	}
	return nil
}

// mayChangeRole: moderators kick and give or take voice from those below
// admin; granting or revoking moderator takes an admin (§8, §9.6-§9.7).
func (r *room) mayChangeRole(actor *occupant, actorAff Affiliation, target *occupant, role Role) error {
	targetAff := r.affiliation(target.real)
	switch {
	case actor == nil || actor.role != RoleModerator:
		return errorf(stanza.Forbidden, "only moderators may change roles")
	case (role == RoleModerator || target.role == RoleModerator) && actorAff < AffAdmin:
		return errorf(stanza.Forbidden, "only admins and owners may grant or revoke moderator")
	case role < RoleModerator && targetAff >= AffAdmin:
		return errorf(stanza.NotAllowed, "admins and owners keep their moderator role")
	case targetAff > actorAff:
		return errorf(stanza.NotAllowed, "you may not change the role of a user with a higher affiliation")
	}
	return nil
}

// apply carries out checked changes and tells the occupants.
func (r *room) apply(ctx context.Context, from jid.JID, changes []change) {
	actorNick := ""
	if a := r.byJID[from]; a != nil {
		actorNick = a.nick
	}
	withReason := func(c change) func(*stanza.Element) {
		return func(p *stanza.Element) {
			item := userX(p).FirstChild()
			if actorNick != "" {
				item.Append(stanza.New(NSUser, "actor").SetAttr("nick", actorNick))
			}
			if c.reason != "" {
				item.Append(stanza.New(NSUser, "reason").AppendText(c.reason))
			}
		}
	}
	affsChanged := false
	for _, c := range changes {
		if !c.isAff {
			if r.byNick[c.target.nick] != c.target {
				continue // already gone by an earlier item
			}
			if c.role == RoleNone {
				r.leaveWith(ctx, c.target, []int{307}, withReason(c))
				continue
			}
			c.target.role = c.role
			r.broadcastPresence(ctx, c.target, "", nil, nil, withReason(c))
			continue
		}
		affsChanged = true
		if c.aff == AffNone {
			delete(r.affs, c.user)
			delete(r.reasons, c.user)
		} else {
			r.affs[c.user], r.reasons[c.user] = c.aff, c.reason
		}
		for _, o := range r.occupantsOf(c.user) {
			switch {
			case c.aff == AffOutcast:
				r.leaveWith(ctx, o, []int{301}, withReason(c))
			case r.cfg.MembersOnly && c.aff < AffMember:
				r.leaveWith(ctx, o, []int{321}, withReason(c))
			default:
				o.role = r.roleAfter(o.role, c.aff)
				r.broadcastPresence(ctx, o, "", nil, nil, withReason(c))
			}
		}
	}
	if affsChanged {
		r.save(ctx)
	}
}

// roleAfter is an occupant's role once its affiliation became a.
func (r *room) roleAfter(cur Role, a Affiliation) Role {
	def := r.defaultRole(a)
	if a >= AffAdmin || cur == RoleModerator || def > cur {
		return def
	}
	return cur
}
