package presence

import (
	"context"

	"github.com/parleyim/parley/internal/features/roster"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
)

// probe asks for the presence of every contact the user is subscribed to
// (RFC 6121 §4.2.2, §4.3), on behalf of the newly available resource full.
// Local contacts are answered at once: each available resource's current
// presence, or, if none is available, the last unavailable presence with
// its time (XEP-0203). Remote contacts get a probe from the bare JID.
func (m *Module) probe(ctx context.Context, view *roster.View, full jid.JID) {
	if view == nil {
		return
	}
	user := full.Bare()
	var offline []jid.JID
	view.Range(func(contact jid.JID, sub roster.Sub) bool {
		switch {
		case !sub.HasTo():
		case !m.host.IsLocal(contact.Domain()):
			m.host.Deliver(ctx, contact, newPresence("probe", user.String(), contact.String()))
		case !m.answerLocal(ctx, contact, user, full):
			offline = append(offline, contact)
		}
		return true
	})
	m.lastTo(ctx, offline, full)
}

// answerLocal delivers the current presence of each available resource of
// a local contact that lets user see it, to full. It reports whether
// the contact had an available resource.
func (m *Module) answerLocal(ctx context.Context, contact, user, full jid.JID) bool {
	found := false
	for _, s := range m.host.Sessions(contact) {
		p := m.current(s)
		if p == nil {
			continue
		}
		if !found && !m.lets(contact, user) {
			return true // online, but user may not see it
		}
		found = true
		m.host.Deliver(ctx, full, readdressed(p, full.String()))
	}
	return found
}

// lets reports whether contact's roster (cached: contact is online) gives
// user a subscription, or they share a group.
func (m *Module) lets(contact, user jid.JID) bool {
	if v := m.roster.Cached(contact); v != nil {
		if sub, _ := v.Sub(user); sub.HasFrom() {
			return true
		}
	}
	return m.roster.SharesGroup(contact, user)
}

// lastTo delivers the stored last unavailable presence of each of
// contacts to full, with its time.
func (m *Module) lastTo(ctx context.Context, contacts []jid.JID, full jid.JID) {
	if len(contacts) == 0 {
		return
	}
	last, err := m.last.Get(ctx, contacts)
	if err != nil {
		m.log.Warn("reading last presence failed", "jid", full, "err", err)
		return
	}
	to := full.String()
	for _, c := range contacts {
		if lp, ok := last[c]; ok {
			m.host.Deliver(ctx, full, withDelay(lp.el, to, c.Domain(), lp.at))
		}
	}
}

// clientProbe handles a probe a client sent (RFC 6121 §4.3 leaves probes
// to servers; answering one from a subscribed user is harmless).
func (m *Module) clientProbe(ctx context.Context, ev *module.Event) error {
	if ev.To.IsZero() {
		return stanza.Errorf(stanza.Modify, stanza.BadRequest, "a probe needs a 'to'")
	}
	contact, user := ev.To.Bare(), ev.From.Bare()
	if !m.host.IsLocal(contact.Domain()) {
		m.host.Deliver(ctx, contact, newPresence("probe", user.String(), contact.String()))
		return nil
	}
	if contact == user {
		m.ownPresenceTo(ctx, ev.From)
		return nil
	}
	if v := m.view(ctx, user); v == nil {
		return nil
	} else if sub, _ := v.Sub(contact); !sub.HasTo() {
		return nil
	}
	if !m.answerLocal(ctx, contact, user, ev.From) {
		m.lastTo(ctx, []jid.JID{contact}, ev.From)
	}
	return nil
}

// fromRemote handles presence from another server (RFC 6121 §3 inbound
// processing, §4.3.2 probes); other presence goes on to the router.
func (m *Module) fromRemote(ctx context.Context, ev *module.Event, typ string) (bool, error) {
	switch {
	case ev.To.IsZero():
		return true, nil
	case roster.IsSubscriptionType(typ):
		return true, m.inboundSubscription(ctx, ev, typ)
	case typ == "probe":
		m.remoteProbe(ctx, ev.From.Bare(), ev.To.Bare())
		return true, nil
	}
	return false, nil
}

// remoteProbe answers a probe from a remote user (RFC 6121 §4.3.2).
func (m *Module) remoteProbe(ctx context.Context, from, contact jid.JID) {
	ok, err := m.roster.IsLocalAccount(ctx, contact)
	if err != nil || !ok {
		m.host.Deliver(ctx, from, newPresence(roster.TypeUnsubscribed, contact.String(), from.String()))
		return
	}
	v := m.view(ctx, contact)
	if v == nil {
		return
	}
	if sub, _ := v.Sub(from); !sub.HasFrom() {
		m.host.Deliver(ctx, from, newPresence(roster.TypeUnsubscribed, contact.String(), from.String()))
		return
	}
	sent := false
	for _, s := range m.host.Sessions(contact) {
		if p := m.current(s); p != nil {
			m.host.Deliver(ctx, from, readdressed(p, from.String()))
			sent = true
		}
	}
	if !sent {
		if last, err := m.last.Get(ctx, []jid.JID{contact}); err == nil {
			if lp, ok := last[contact]; ok {
				m.host.Deliver(ctx, from, withDelay(lp.el, from.String(), contact.Domain(), lp.at))
			}
		}
	}
}
