package presence

import (
	"context"

	"github.com/parleyim/parley/internal/features/roster"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
)

// subscription handles a subscription stanza a local user sent (RFC 6121
// §3): the roster applies the state tables, and this delivers.
func (m *Module) subscription(ctx context.Context, ev *module.Event, typ string) error {
	if ev.To.IsZero() {
		return stanza.Errorf(stanza.Modify, stanza.BadRequest, "a %s presence needs a 'to'", typ)
	}
	from, to := ev.From.Bare(), ev.To.Bare()
	if to == from || to.Local() == "" && m.host.IsLocal(to.Domain()) {
		return nil // one is always subscribed to oneself; the server has no roster
	}
	if m.roster.SharesGroup(from, to) {
		m.sharedSubscription(ctx, from, to, typ)
		return nil
	}
	rcptLocal, err := m.roster.IsLocalAccount(ctx, to)
	if err != nil {
		return err
	}
	out := subscriptionStanza(ev.Stanza, from, to)
	o, err := m.roster.Subscribe(ctx, from, to, typ, out, true, rcptLocal)
	if err != nil {
		return err
	}
	if o.Route && !m.host.IsLocal(to.Domain()) {
		m.host.Deliver(ctx, to, out)
	}
	m.deliverOutcome(ctx, from, to, typ, out, o, true)
	return nil
}

// inboundSubscription handles a subscription stanza from a remote user to
// a local one (Appendix A.3 only). Requests to unknown users are dropped
// (RFC 6121 §8.5.1: presence to an unknown user is ignored).
func (m *Module) inboundSubscription(ctx context.Context, ev *module.Event, typ string) error {
	from, to := ev.From.Bare(), ev.To.Bare()
	ok, err := m.roster.IsLocalAccount(ctx, to)
	if err != nil || !ok {
		return err
	}
	in := subscriptionStanza(ev.Stanza, from, to)
	o, err := m.roster.Subscribe(ctx, from, to, typ, in, false, true)
	if err != nil {
		return err
	}
	m.deliverOutcome(ctx, from, to, typ, in, o, false)
	return nil
}

// subscriptionStanza is el addressed from and to the bare JIDs (RFC 6121
// §3.1.2: the user's server stamps the bare JID).
func subscriptionStanza(el *stanza.Element, from, to jid.JID) *stanza.Element {
	c := readdressed(el, to.String())
	for i := range c.Attrs {
		if c.Attrs[i].Space == "" && c.Attrs[i].Local == "from" {
			c.Attrs[i].Value = from.String()
		}
	}
	return c
}

// deliverOutcome delivers what processing decided, and the presence that
// approving or cancelling implies.
func (m *Module) deliverOutcome(ctx context.Context, from, to jid.JID, typ string, el *stanza.Element, o roster.Outcome, senderLocal bool) {
	if o.Deliver {
		m.send(ctx, to, el)
	}
	if o.AutoReply {
		reply := newPresence(roster.TypeSubscribed, to.String(), from.String())
		if !senderLocal || o.ReplyDeliver {
			m.send(ctx, from, reply)
		}
		m.sendCurrent(ctx, to, from)
	}
	switch typ {
	case roster.TypeSubscribed:
		// §3.1.5: the approving user's presence goes to the new subscriber.
		if senderLocal && o.Route && (o.RecipientChanged || !m.host.IsLocal(to.Domain())) {
			m.sendCurrent(ctx, from, to)
		}
	case roster.TypeUnsubscribed:
		// §3.2.2: a cancelled subscriber learns the user is unavailable.
		if senderLocal && o.Route {
			m.sendUnavailable(ctx, from, to)
		}
	case roster.TypeUnsubscribe:
		// §3.3.3: the contact's server tells the unsubscriber the contact
		// is unavailable.
		if o.Inbound && o.RecipientChanged {
			m.sendUnavailable(ctx, to, from)
		}
	}
}

// sharedSubscription answers subscription stanzas between members of a
// shared group, who are always subscribed both ways: a request is
// approved at once, the rest is ignored.
func (m *Module) sharedSubscription(ctx context.Context, from, to jid.JID, typ string) {
	if typ != roster.TypeSubscribe {
		return
	}
	m.send(ctx, from, newPresence(roster.TypeSubscribed, to.String(), from.String()))
	m.sendCurrent(ctx, to, from)
}

// sendCurrent sends the current presence of each available resource of
// the local user owner to target.
func (m *Module) sendCurrent(ctx context.Context, owner, target jid.JID) {
	for _, s := range m.host.Sessions(owner) {
		if p := m.current(s); p != nil {
			m.send(ctx, target, p)
		}
	}
}

// sendUnavailable sends unavailable presence from each available resource
// of the local user owner to target.
func (m *Module) sendUnavailable(ctx context.Context, owner, target jid.JID) {
	for _, s := range m.host.Sessions(owner) {
		if m.current(s) != nil {
			m.send(ctx, target, newPresence("unavailable", s.JID().String(), target.String()))
		}
	}
}

// removed is the roster's removal hook (RFC 6121 §2.5.2): it sends the
// unsubscribe and unsubscribed the removal implies, and the unavailable
// presence each side's server sends.
func (m *Module) removed(ctx context.Context, user, contact jid.JID, r roster.Removal) {
	remote := !m.host.IsLocal(contact.Domain())
	for _, s := range []struct {
		typ           string
		sent, deliver bool
	}{
		{roster.TypeUnsubscribe, r.Unsubscribe, r.DeliverUnsubscribe},
		{roster.TypeUnsubscribed, r.Unsubscribed, r.DeliverUnsubscribed},
	} {
		if !s.sent {
			continue
		}
		el := newPresence(s.typ, user.String(), contact.String())
		if remote || s.deliver {
			m.send(ctx, contact, el)
		}
	}
	if r.Unsubscribed {
		m.sendUnavailable(ctx, user, contact)
	}
	if r.Unsubscribe && r.Inbound {
		m.sendUnavailable(ctx, contact, user)
	}
}

// sharedChanged is the roster's shared hook: an administrator's change put
// the online user and contact in a shared group together (added), so the
// user gets the contact's current presence at once; or it parted them,
// and unless the user still subscribes to the contact otherwise, the user
// gets the contact's unavailable presence. The contact's side is the same
// call with the two swapped (when the contact is online).
func (m *Module) sharedChanged(ctx context.Context, user, contact jid.JID, added bool) {
	if added {
		m.sendCurrent(ctx, contact, user)
		return
	}
	if v := m.view(ctx, user); v != nil {
		if sub, _ := v.Sub(contact); sub.HasTo() {
			return
		}
	}
	m.sendUnavailable(ctx, contact, user)
}
