package mam

import (
	"context"
	"errors"
	"fmt"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// NSMUCUser marks a private message sent through a group chat room
// (XEP-0045 §7.5).
const NSMUCUser = "http://jabber.org/protocol/muc#user"

// ArchiveReceived archives el, a message a service (the group chat
// service: a private message from an occupant, XEP-0045 §7.5) is about to
// deliver to the local user owner, in owner's archive with the sender
// 'with', and stamps it with its stanza-id by owner. A message the
// business rules or owner's preferences leave out is left alone. Such
// messages do not pass the InboundMessage hook (no local user sent them),
// so the service calls this before delivering (XEP-0313 §5.1.1: private
// messages through a room are one-to-one chat, archived by the user's
// server). When the database is down the message goes on unarchived; any
// other failure is returned, and the message should not be delivered.
func (m *Module) ArchiveReceived(ctx context.Context, owner, with jid.JID, el *stanza.Element) error {
	owner = owner.Bare()
	stripForged(el, owner)
	if !Archivable(el) || !m.localAccount(ctx, owner) || !m.wants(ctx, owner, with) {
		return nil
	}
	ids, err := m.archive.Append(context.WithoutCancel(ctx), storage.ArchiveEntry{Owner: owner, With: with, Data: storage.EncodeElements(el)})
	switch {
	case errors.Is(err, storage.ErrUnavailable):
		m.log.Warn("archive unavailable; the private message is delivered without being archived", "from", with, "to", owner, "err", err)
		return nil
	case err != nil:
		return fmt.Errorf("mam: archive a private message to %s: %w", owner, err)
	}
	el.Append(stanza.New(NSSID, "stanza-id").SetAttr("by", owner.String()).SetAttr("id", ids[0]))
	return nil
}

// markPrivate adds the muc#user <x/> to a message a local user sends to
// an occupant of a room (m.cfg.Groupchat says which domains serve rooms),
// so that the archived copy and the delivered one are marked as private
// messages (XEP-0045 §7.5) even when the client left it out.
func (m *Module) markPrivate(el *stanza.Element, to jid.JID) {
	if m.cfg.Groupchat == nil || to.Resource() == "" || !m.cfg.Groupchat(to.Domain()) {
		return
	}
	if el.Attr("type") == stanza.MsgGroupchat || el.Child(NSMUCUser, "x") != nil {
		return
	}
	el.Append(stanza.New(NSMUCUser, "x"))
}
