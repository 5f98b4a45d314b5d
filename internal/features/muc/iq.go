package muc

import (
	"context"
	"slices"
	"strconv"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
)

// iqRequest checks an iq get/set and returns its payload; results and
// errors return nil (they are consumed).
func iqRequest(el *stanza.Element) (*stanza.Element, error) {
	switch el.Attr("type") {
	case stanza.Get, stanza.Set:
		if p := el.FirstChild(); p != nil {
			return p, nil
		}
		return nil, errorf(stanza.BadRequest, "an iq get/set needs a payload")
	}
	return nil, nil
}

// reply sends the result of an iq the service answered.
func (s *Service) reply(ctx context.Context, from, to jid.JID, el, payload *stanza.Element) error {
	s.host.Deliver(ctx, from, stanza.IQResult(el, payload, to, from))
	return nil
}

// serviceIQ answers iqs to the service domain: discovery (§6.1-§6.3).
func (s *Service) serviceIQ(ctx context.Context, from, to jid.JID, el *stanza.Element) error {
	p, err := iqRequest(el)
	if p == nil {
		return err
	}
	if el.Attr("type") != stanza.Get || p.Local != "query" || p.Attr("node") != "" {
		return stanza.NewError(stanza.ServiceUnavailable)
	}
	switch p.Space {
	case nsDiscoInfo:
		q := stanza.New(nsDiscoInfo, "query").Append(
			stanza.New(nsDiscoInfo, "identity").SetAttr("category", "conference").SetAttr("type", "text").SetAttr("name", "Group chat"))
		for _, f := range []string{nsDiscoInfo, nsDiscoItem, NS, nsStanzaID, nsOccupant, nsSelfPing} {
			q.Append(stanza.New(nsDiscoInfo, "feature").SetAttr("var", f))
		}
		return s.reply(ctx, from, to, el, q)
	case nsDiscoItem:
		return s.reply(ctx, from, to, el, s.publicRooms(to.Domain()))
	}
	return stanza.NewError(stanza.ServiceUnavailable)
}

// publicRooms lists the public, unlocked rooms of a service domain
// (§6.3), sorted by address.
func (s *Service) publicRooms(domain string) *stanza.Element {
	type item struct{ jid, name string }
	var items []item
	for _, r := range s.allRooms() {
		if r.jid.Domain() != domain {
			continue
		}
		r.mu.Lock()
		if !r.gone && !r.locked && r.cfg.Public {
			items = append(items, item{r.jidStr, r.displayName()})
		}
		r.mu.Unlock()
	}
	slices.SortFunc(items, func(a, b item) int {
		if a.jid < b.jid {
			return -1
		}
		if a.jid > b.jid {
			return 1
		}
		return 0
	})
	q := stanza.New(nsDiscoItem, "query")
	for _, it := range items {
		q.Append(stanza.New(nsDiscoItem, "item").SetAttr("jid", it.jid).SetAttr("name", it.name))
	}
	return q
}

func (r *room) displayName() string {
	if r.cfg.Name != "" {
		return r.cfg.Name
	}
	return r.jid.Local()
}

// roomIQ answers iqs to a room: discovery, registration, owner and admin
// queries. The answer goes out once what the iq changed is stored.
func (s *Service) roomIQ(ctx context.Context, from, to jid.JID, el *stanza.Element) error {
	p, err := iqRequest(el)
	if p == nil {
		return err
	}
	if p.Space == NSMAM && p.Local == "query" {
		return s.mamQuery(ctx, from, to, el, p)
	}
	r, err := s.lockRoom(to, from)
	if err != nil {
		return err
	}
	payload, err := r.roomQuery(ctx, from, p, el.Attr("type") == stanza.Get)
	if err = r.unlock(ctx, err); err != nil {
		return err
	}
	return s.reply(ctx, from, to, el, payload)
}

// roomQuery answers the payload of an iq to the room (r.mu held).
func (r *room) roomQuery(ctx context.Context, from jid.JID, p *stanza.Element, get bool) (*stanza.Element, error) {
	switch {
	case p.Local != "query":
		return nil, stanza.NewError(stanza.ServiceUnavailable)
	case p.Space == nsDiscoInfo && get && p.Attr("node") == "x-roomuser-item":
		return r.reservedNick(from), nil
	case p.Space == nsDiscoInfo && get:
		return r.discoInfo(p)
	case p.Space == nsDiscoItem && get:
		return stanza.New(nsDiscoItem, "query"), nil // occupants are not listed (§6.5)
	case p.Space == NSOwner:
		return r.ownerQuery(ctx, from, p, get)
	case p.Space == NSAdmin:
		return r.adminQuery(ctx, from, p, get)
	case p.Space == nsIQRegister:
		res, err := r.registerQuery(from, p, get)
		if err == nil && !get {
			r.save(ctx)
		}
		return res, err
	}
	return nil, stanza.NewError(stanza.ServiceUnavailable)
}

// discoInfo describes the room (§6.4) with the muc#roominfo form.
func (r *room) discoInfo(p *stanza.Element) (*stanza.Element, error) {
	if p.Attr("node") != "" {
		return nil, stanza.NewError(stanza.ItemNotFound)
	}
	q := stanza.New(nsDiscoInfo, "query").Append(
		stanza.New(nsDiscoInfo, "identity").SetAttr("category", "conference").SetAttr("type", "text").SetAttr("name", r.displayName()))
	feats := append([]string{nsDiscoInfo, nsDiscoItem}, r.cfg.features()...)
	if r.svc.archiving(r) {
		feats = append(feats, NSMAM)
	}
	for _, f := range feats {
		q.Append(stanza.New(nsDiscoInfo, "feature").SetAttr("var", f))
	}
	f := newForm("result", NSRoomInfo, "")
	f.field("muc#roominfo_description", "", "Description", r.cfg.Description)
	f.field("muc#roominfo_occupants", "", "Occupants", strconv.Itoa(len(r.list)))
	f.field("muc#roominfo_subject", "", "Subject", r.subject)
	f.field("muc#roominfo_changesubject", "", "Participants may change the subject", boolValue(r.cfg.ChangeSubject))
	f.field(fRoomName, "", "Name", r.cfg.Name)
	f.field(fMaxUsers, "", "Most occupants", strconv.Itoa(r.cfg.MaxUsers))
	f.field(fWhois, "", "Who may see real JIDs", r.cfg.Whois)
	return q.Append(f.x), nil
}

// iqToOccupant forwards an iq between occupants (§7.5): requests go to
// the target's real JID from the sender's nickname; answers come back the
// same way, so the room keeps no state.
func (r *room) iqToOccupant(ctx context.Context, from, to jid.JID, el *stanza.Element) error {
	typ := el.Attr("type")
	answer := typ == stanza.Result || typ == stanza.TypeError
	sender, target := r.byJID[from], r.byNick[to.Resource()]
	switch {
	case sender == nil && answer:
		return nil
	case sender == nil:
		return errorf(stanza.NotAcceptable, "only occupants may send iqs to occupants")
	case r.selfPing(ctx, from, to, el):
		return nil
	case target == nil && answer:
		return nil
	case target == nil:
		return errorf(stanza.ItemNotFound, "no occupant with that nickname")
	}
	fwd := el.Copy()
	fwd.SetAttr("from", sender.nickStr)
	r.send(ctx, target.real, target.realStr, fwd) // the shown session answers
	return nil
}
