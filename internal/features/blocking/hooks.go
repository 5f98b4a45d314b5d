package blocking

import (
	"context"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
)

// exempt reports whether the blocking rules do not apply between from and
// to: the server itself, and a user's own resources, are never blocked.
func (m *Module) exempt(from, to jid.JID) bool {
	return from.IsZero() || to.IsZero() || from.Bare() == to.Bare() || m.isServer(from) || m.isServer(to)
}

// senderBlocks reports whether from, a local user, blocked to.
func (m *Module) senderBlocks(ctx context.Context, from, to jid.JID) (bool, error) {
	if !m.isLocalAccount(from) {
		return false, nil
	}
	l, err := m.list(ctx, from.Bare())
	if err != nil {
		return false, err
	}
	return l.matches(to), nil
}

// recipientBlocks reports whether to, a local user, blocked from.
func (m *Module) recipientBlocks(ctx context.Context, from, to jid.JID) (bool, error) {
	if !m.isLocalAccount(to) {
		return false, nil
	}
	l, err := m.list(ctx, to.Bare())
	if err != nil {
		return false, err
	}
	return l.matches(from), nil
}

// check applies both directions to a stanza a local user sends: out is
// true when the user blocked the recipient, in when the recipient blocked
// the user.
func (m *Module) check(ctx context.Context, from, to jid.JID) (out, in bool, err error) {
	if m.exempt(from, to) {
		return false, false, nil
	}
	if out, err = m.senderBlocks(ctx, from, to); err != nil || out {
		return out, false, wrapErr("check "+from.String(), err)
	}
	in, err = m.recipientBlocks(ctx, from, to)
	return false, in, wrapErr("check "+to.String(), err)
}

// filter is the Filter hook: it drops a delivery to a session when either
// side blocked the other. Once the lists are cached it does no I/O.
func (m *Module) filter(ctx context.Context, ev *module.Event) (bool, error) {
	if m.exempt(ev.From, ev.To) {
		return false, nil
	}
	if in, err := m.recipientBlocks(ctx, ev.From, ev.To); err != nil || in {
		return in, wrapErr("filter", err)
	}
	out, err := m.senderBlocks(ctx, ev.From, ev.To)
	return out, wrapErr("filter", err)
}

// inboundMessage refuses a message to a blocked contact and answers one
// from a blocked contact with service-unavailable (§3.3); error messages
// are dropped either way.
func (m *Module) inboundMessage(ctx context.Context, ev *module.Event) (bool, error) {
	out, in, err := m.check(ctx, ev.From, ev.To)
	if err != nil || (!out && !in) {
		return false, err
	}
	if ev.Stanza.Attr("type") == stanza.TypeError {
		return true, nil
	}
	if out {
		return false, errBlocked()
	}
	return false, stanza.NewError(stanza.ServiceUnavailable)
}

// inboundPresence refuses directed presence to a blocked contact and
// drops, without a reply, presence to a user who blocked the sender
// (§3.3). Broadcasts (no 'to') are filtered per recipient.
func (m *Module) inboundPresence(ctx context.Context, ev *module.Event) (bool, error) {
	out, in, err := m.check(ctx, ev.From, ev.To)
	switch {
	case err != nil:
		return false, err
	case in || (out && ev.Stanza.Attr("type") == stanza.TypeError):
		return true, nil
	case out:
		return false, errBlocked()
	}
	return false, nil
}

// inboundIQ refuses an iq get/set to a blocked contact, answers one from
// a blocked contact with service-unavailable, and drops results and errors
// either way (§3.3). iqs to a user's bare JID, answered by the server on
// the user's behalf (vCard, last activity), count as sent to the user.
func (m *Module) inboundIQ(ctx context.Context, ev *module.Event) (bool, error) {
	out, in, err := m.check(ctx, ev.From, ev.To)
	if err != nil || (!out && !in) {
		return false, err
	}
	switch typ := ev.Stanza.Attr("type"); {
	case typ != stanza.Get && typ != stanza.Set:
		return true, nil
	case out:
		return false, errBlocked()
	}
	return false, stanza.NewError(stanza.ServiceUnavailable)
}
