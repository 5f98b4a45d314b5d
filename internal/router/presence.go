package router

import (
	"context"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
)

// routePresence runs the presence hooks (roster, broadcast) and then
// delivers directed presence. Presence never bounces errors for missing
// recipients (RFC 6121 §8.5.2.1.2 and §8.5.3.2.2: silently ignore).
func (r *Router) routePresence(ctx context.Context, from, to jid.JID, el *stanza.Element) error {
	ev := &module.Event{From: from, To: to, Stanza: el}
	if handled, err := r.reg.RunHooks(ctx, module.InboundPresence, ev); err != nil || handled {
		return err
	}
	if to.IsZero() {
		return nil // broadcast is the presence module's job
	}
	if !r.IsLocal(to.Domain()) {
		if err := r.remoteRoute(ctx, from, to, el); err != nil {
			r.log.Debug("presence to remote dropped", "to", to, "err", err)
		}
		return nil
	}
	if to.IsBare() {
		for _, s := range r.Sessions(to) {
			r.deliverTo(ctx, from, s, el)
		}
		return nil
	}
	if s := r.Session(to); s != nil {
		r.deliverTo(ctx, from, s, el)
	}
	return nil
}
