package muc

import (
	"context"
	"slices"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
)

// Namespaces of the additions clients use today.
const (
	NSRequest    = "http://jabber.org/protocol/muc#request"  // voice requests, §8.6
	NSRegister   = "http://jabber.org/protocol/muc#register" // registration form, §7.10
	nsIQRegister = "jabber:iq:register"
	nsPing       = "urn:xmpp:ping"
	// nsSelfPing advertises that the room answers self-pings (XEP-0410 §4).
	nsSelfPing = "http://jabber.org/protocol/muc#self-ping-optimization"
	fRoomNick  = "muc#register_roomnick"
)

// bucket is a token bucket: rate tokens a second, at most burst.
type bucket struct {
	tokens float64
	last   time.Time
}

// allow takes a token if there is one; rate <= 0 allows everything.
func (b *bucket) allow(now time.Time, rate float64, burst int) bool {
	if rate <= 0 {
		return true
	}
	if burst < 1 {
		burst = 1
	}
	if b.last.IsZero() {
		b.tokens = float64(burst)
	} else if d := now.Sub(b.last).Seconds(); d > 0 {
		b.tokens = min(float64(burst), b.tokens+d*rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// formType returns the FORM_TYPE of a data form.
func formType(x *stanza.Element) string {
	if v := formValues(x)["FORM_TYPE"]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// decline forwards an invitee's decline to the inviter (§7.8.2): from the
// room, naming the invitee's bare JID.
func (r *room) decline(ctx context.Context, from jid.JID, d *stanza.Element) error {
	to, err := jid.Parse(d.Attr("to"))
	if err != nil || to.IsZero() {
		return errorf(stanza.JIDMalformed, "a decline needs a valid 'to'")
	}
	fwd := stanza.New(NSUser, "decline").SetAttr("from", from.Bare().String())
	if reason := d.Child(NSUser, "reason"); reason != nil {
		fwd.Append(stanza.New(NSUser, "reason").AppendText(reason.Text()))
	}
	m := stanza.New(stanza.NSClient, stanza.KindMessage).SetAttr("from", r.jidStr).SetAttr("id", r.svc.newID()).
		Append(stanza.New(NSUser, "x").Append(fwd))
	r.send(ctx, to, to.String(), m)
	return nil
}

// voiceForm handles a muc#request form: a visitor's request for voice
// (type submit, muc#role participant) goes to the moderators as an
// approval form; a moderator's submitted approval (muc#request_allow
// true) gives the named occupant voice (§8.6).
func (r *room) voiceForm(ctx context.Context, from jid.JID, f *stanza.Element) error {
	o := r.byJID[from]
	if o == nil {
		return errorf(stanza.NotAcceptable, "only occupants may request voice")
	}
	vals := formValues(f)
	first := func(k string) string {
		if v := vals[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	if _, ok := vals["muc#request_allow"]; ok {
		return r.approveVoice(ctx, o, first("muc#roomnick"), first("muc#request_allow"))
	}
	if first("muc#role") != "participant" {
		return errorf(stanza.BadRequest, "a voice request asks for muc#role participant")
	}
	if o.role != RoleVisitor {
		return errorf(stanza.NotAcceptable, "you already have voice")
	}
	req := newForm("form", NSRequest, "Voice request")
	inst := stanza.New(nsData, "instructions").AppendText("To approve this request for voice, select the \"Grant voice\" checkbox and submit the form.")
	req.x.Children = slices.Insert(req.x.Children, 1, stanza.Node{El: inst}) // after the title (XEP-0004 §3.1)
	req.options(req.field("muc#role", "list-single", "Requested role", "participant"), "participant", "Participant")
	req.field("muc#jid", "jid-single", "User ID", o.bare.String())
	req.field("muc#roomnick", "text-single", "Room nickname", o.nick)
	req.field("muc#request_allow", "boolean", "Grant voice to this person?", "false")
	m := stanza.New(stanza.NSClient, stanza.KindMessage).SetAttr("from", r.jidStr).SetAttr("id", r.svc.newID()).Append(req.x)
	for _, mod := range r.list {
		if mod.role == RoleModerator {
			r.sendOcc(ctx, mod, m)
		}
	}
	return nil
}

// approveVoice applies a moderator's answer to a voice request.
func (r *room) approveVoice(ctx context.Context, mod *occupant, nick, allow string) error {
	if mod.role != RoleModerator {
		return errorf(stanza.Forbidden, "only moderators may approve voice requests")
	}
	ok, err := parseBool("muc#request_allow", allow)
	if err != nil || !ok {
		return err // a denial needs nothing (§8.6)
	}
	target := r.byNick[nick]
	if target == nil {
		return errorf(stanza.ItemNotFound, "no occupant with nickname %q", nick)
	}
	if target.role != RoleVisitor {
		return nil
	}
	target.role = RoleParticipant
	r.broadcastPresence(ctx, target, "", nil, nil, func(p *stanza.Element) {
		userX(p).FirstChild().Append(stanza.New(NSUser, "actor").SetAttr("nick", mod.nick))
	})
	return nil
}

// selfPing answers an XEP-0410 ping an occupant sent to its own
// nickname, on the occupant's behalf (r.mu held). It reports false when el
// is not one.
func (r *room) selfPing(ctx context.Context, from, to jid.JID, el *stanza.Element) bool {
	if el.Attr("type") != stanza.Get || el.Child(nsPing, "ping") == nil {
		return false
	}
	o := r.byJID[from]
	if o == nil || o.nick != to.Resource() {
		return false
	}
	r.svc.host.Deliver(ctx, from, stanza.IQResult(el, nil, to, from))
	return true
}

// registerQuery handles jabber:iq:register to the room (§7.10): get
// returns the registration form, or the reserved nickname when the user
// is registered; set submits the form (the user becomes a member with a
// reserved nickname) or removes the registration.
func (r *room) registerQuery(from jid.JID, q *stanza.Element, get bool) (*stanza.Element, error) {
	user := from.Bare()
	aff := r.affiliation(from)
	if aff == AffOutcast {
		return nil, errorf(stanza.Forbidden, "you are banned from this room")
	}
	nick, registered := r.regs[user]
	if get {
		res := stanza.New(nsIQRegister, "query")
		if registered {
			return res.Append(stanza.New(nsIQRegister, "registered"), stanza.New(nsIQRegister, "username").AppendText(nick)), nil
		}
		res.Append(stanza.New(nsIQRegister, "instructions").AppendText("To register with this room, choose a nickname and submit the form."))
		f := newForm("form", NSRegister, "Registration with "+r.displayName())
		f.field(fRoomNick, "text-single", "Nickname").Append(stanza.New(nsData, "required"))
		return res.Append(f.x), nil
	}
	if q.Child(nsIQRegister, "remove") != nil {
		if !registered {
			return nil, errorf(stanza.ItemNotFound, "you are not registered with this room")
		}
		delete(r.regs, user)
		if aff == AffMember {
			delete(r.affs, user)
		}
		return nil, nil
	}
	x := q.Child(nsData, "x")
	if x == nil || x.Attr("type") != "submit" || formType(x) != NSRegister {
		return nil, errorf(stanza.BadRequest, "submit the %s form", NSRegister)
	}
	want := formValues(x)[fRoomNick]
	if len(want) == 0 || want[0] == "" {
		return nil, errorf(stanza.NotAcceptable, "%s is required", fRoomNick)
	}
	n, err := jid.New(r.jid.Local(), r.jid.Domain(), want[0])
	if err != nil || len(want[0]) > 1023 {
		return nil, errorf(stanza.JIDMalformed, "%q is not a valid nickname", want[0])
	}
	if owner := r.nickOwner(n.Resource()); !owner.IsZero() && owner != user {
		return nil, errorf(stanza.Conflict, "the nickname is reserved by another user")
	}
	if o := r.byNick[n.Resource()]; o != nil && o.bare != user {
		return nil, errorf(stanza.Conflict, "the nickname is in use by another occupant")
	}
	r.regs[user] = n.Resource()
	if aff == AffNone {
		r.affs[user] = AffMember
	}
	return nil, nil
}

// reservedNick answers the disco#info query for the x-roomuser-item node
// (§7.12): the user's reserved nickname as the identity's name.
func (r *room) reservedNick(from jid.JID) *stanza.Element {
	q := stanza.New(nsDiscoInfo, "query").SetAttr("node", "x-roomuser-item")
	if nick, ok := r.regs[from.Bare()]; ok {
		q.Append(stanza.New(nsDiscoInfo, "identity").SetAttr("category", "conference").SetAttr("type", "text").SetAttr("name", nick))
	}
	return q
}
