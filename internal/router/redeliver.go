package router

import (
	"context"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
)

// Redeliver routes a message again that was delivered to a session which
// then ended before its client acknowledged it (XEP-0198 §5: unacknowledged
// stanzas of an ended session are treated as undelivered). It applies the
// delivery rules as if that session had never existed — the caller has
// unbound it already: a full JID with no session falls back to the bare
// JID for chat (RFC 6121 §8.5.3.2.1), a bare JID goes to the best other
// resource or to offline storage (the Offline hook), and a stanza error
// comes back for the caller to bounce to the sender. The inbound hooks
// (archive, carbons, blocking) do not run again: they saw the message
// when it was first routed. Only messages are redelivered; other stanzas
// return nil.
func (r *Router) Redeliver(ctx context.Context, from, to jid.JID, el *stanza.Element) error {
	if el.Local != stanza.KindMessage || !r.IsLocal(to.Domain()) || to.IsDomain() {
		return nil
	}
	typ := messageType(el)
	if to.IsBare() {
		return r.messageToBare(ctx, from, to, el, typ)
	}
	if s := r.Session(to); s != nil && r.deliverTo(ctx, from, s, el) {
		return nil
	}
	return r.messageToAbsentResource(ctx, from, to, el, typ)
}
