package muc

import (
	"context"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
)

// privateOut is a private message (§7.5) to a local user, held until the
// room's lock is released: it is archived in the recipient's own archive
// (Config.ArchivePrivate, XEP-0313 §5.1.1) and then delivered to each of
// the recipient's sessions in the room.
type privateOut struct {
	m     *stanza.Element // stamped, with the muc#user <x/>
	from  jid.JID         // the sender's occupant JID
	owner jid.JID         // the recipient's bare JID
	to    []*member       // the recipient's sessions when it was sent
}

// sendPrivate archives and delivers pm (no room lock held). A failed
// archive write is the sender's error; nothing is delivered then.
func (r *room) sendPrivate(ctx context.Context, pm *privateOut) error {
	if err := r.svc.cfg.ArchivePrivate(ctx, pm.owner, pm.from, pm.m); err != nil {
		r.svc.log.Error("archiving a private message failed; it is bounced", "room", r.jidStr, "to", pm.owner, "err", err)
		return errorf(stanza.InternalServerError, "the private message could not be archived")
	}
	for _, m := range pm.to {
		r.send(ctx, m.real, m.realStr, pm.m)
	}
	return nil
}
