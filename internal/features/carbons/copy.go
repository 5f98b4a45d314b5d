package carbons

import (
	"context"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
)

// inbound is the InboundMessage hook: it sends the <sent/> copies to the
// sender's other enabled resources and the <received/> copies to the
// recipient's enabled resources that the delivery rules pass over. It
// never handles the message: delivery goes on as usual.
func (m *Module) inbound(ctx context.Context, ev *module.Event) (bool, error) {
	el := ev.Stanza
	if isPrivate(el) {
		if m.host.IsLocal(ev.To.Domain()) {
			el.RemoveChildren(func(c *stanza.Element) bool { return c.Space == NS && c.Local == "private" })
		}
		return false, nil
	}
	if m.n.Load() == 0 || !eligible(el) {
		return false, nil
	}
	from, to := ev.From, ev.To
	toLocal := to.Local() != "" && m.host.IsLocal(to.Domain())
	var sent, received []module.Conn
	if !from.IsBare() && m.host.IsLocal(from.Domain()) {
		sent = m.enabled(from.Bare())
	}
	if toLocal && to.Bare() != from.Bare() { // to oneself, the sent copies say it all
		received = m.enabled(to.Bare())
	}
	if len(sent) == 0 && len(received) == 0 {
		return false, nil
	}
	var targets []module.Conn
	if toLocal {
		var delivered bool
		if targets, delivered = m.targets(to, el.Attr("type")); !delivered {
			return false, nil // it will bounce: nothing to copy
		}
	}
	m.copyTo(ctx, "sent", from.Bare(), el, sent, targets, from)
	m.copyTo(ctx, "received", to.Bare(), el, received, targets, from)
	return false, nil
}

// targets predicts which sessions of a local user the router delivers a
// message for to to (RFC 6121 §8.5.2, §8.5.3), with the router's own
// rules: the full JID's session; else, for chat or a bare JID, the
// available resources with the highest non-negative priority. delivered is
// false when the message will bounce instead (normal type to an absent
// resource).
func (m *Module) targets(to jid.JID, typ string) (targets []module.Conn, delivered bool) {
	if !to.IsBare() {
		if s := m.host.Session(to); s != nil {
			return []module.Conn{s}, true
		}
		if typ != stanza.MsgChat {
			return nil, false
		}
	}
	for _, s := range m.host.BestResources(to.Bare(), typ) {
		targets = append(targets, s)
	}
	return targets, true
}

// copyTo sends a kind ("sent" or "received") copy of el to each of the
// enabled sessions of user, except the sender and the delivery targets.
func (m *Module) copyTo(ctx context.Context, kind string, user jid.JID, el *stanza.Element, enabled, targets []module.Conn, sender jid.JID) {
	for _, c := range enabled {
		if to := c.JID(); to != sender && !contains(targets, c) {
			m.host.Deliver(ctx, to, wrap(kind, user, to, el))
		}
	}
}

func contains(list []module.Conn, c module.Conn) bool {
	for _, x := range list {
		if x == c {
			return true
		}
	}
	return false
}

// wrap builds the carbon copy (§7, §8): from the user's bare JID to the
// receiving resource, same type, the original inside <forwarded/>.
func wrap(kind string, user, to jid.JID, el *stanza.Element) *stanza.Element {
	msg := stanza.New(stanza.NSClient, stanza.KindMessage).SetAttr("from", user.String()).SetAttr("to", to.String())
	if t := el.Attr("type"); t != "" {
		msg.SetAttr("type", t)
	}
	fwd := stanza.New(NSForward, "forwarded").Append(el)
	return msg.Append(stanza.New(NS, kind).Append(fwd))
}

// eligible applies §6's suggested rules.
func eligible(el *stanza.Element) bool {
	switch el.Attr("type") {
	case stanza.MsgChat:
	case "", stanza.MsgNormal:
		if el.Child(stanza.NSClient, "body") == nil && el.Child(stanza.NSServer, "body") == nil {
			return false
		}
	default: // error, groupchat, headline
		return false
	}
	for _, n := range el.Children {
		c := n.El
		switch {
		case c == nil:
		case c.Space == NS && (c.Local == "sent" || c.Local == "received"):
			return false // already a carbon
		case c.Space == NSHints && c.Local == "no-copy":
			return false
		case c.Space == nsMUCUser && c.Local == "x":
			return false // MUC private message
		}
	}
	return true
}

// isPrivate reports the §9 <private/> marker.
func isPrivate(el *stanza.Element) bool {
	return el.Child(NS, "private") != nil
}
