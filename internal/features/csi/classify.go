package csi

import "github.com/parleyim/parley/internal/stanza"

// Namespaces the classification looks at.
const (
	nsChatStates = "http://jabber.org/protocol/chatstates"
	nsCarbons    = "urn:xmpp:carbons:2"
	nsForward    = "urn:xmpp:forward:0"
	nsHints      = "urn:xmpp:hints"
	nsSID        = "urn:xmpp:sid:0"
	nsDelay      = "urn:xmpp:delay"
)

// class says what an inactive session does with a stanza.
type class int

const (
	urgent    class = iota // deliver now (after what is held)
	presence               // hold; the latest per sender replaces older ones
	chatState              // hold, in order
)

// classify sorts a stanza for an inactive session.
func classify(el *stanza.Element) class {
	switch el.Local {
	case stanza.KindPresence:
		switch el.Attr("type") {
		case "", "unavailable":
			return presence
		}
	case stanza.KindMessage:
		if chatStateOnly(unwrapCarbon(el)) {
			return chatState
		}
	}
	return urgent
}

// unwrapCarbon returns the message inside an XEP-0280 copy, or el.
func unwrapCarbon(el *stanza.Element) *stanza.Element {
	for _, kind := range []string{"sent", "received"} {
		if c := el.Child(nsCarbons, kind); c != nil {
			if f := c.Child(nsForward, "forwarded"); f != nil {
				if m := f.Child("", stanza.KindMessage); m != nil {
					return m
				}
			}
			return el
		}
	}
	return el
}

// chatStateOnly reports whether a message carries an XEP-0085 chat state
// and nothing else that matters: only a thread, hints, ids or a delay may
// come with it. A body, a subject or any unknown payload makes it urgent.
func chatStateOnly(el *stanza.Element) bool {
	if el.Attr("type") == "error" {
		return false
	}
	state := false
	for _, n := range el.Children {
		c := n.El
		switch {
		case c == nil:
		case c.Space == nsChatStates:
			state = true
		case c.Local == "thread" && (c.Space == stanza.NSClient || c.Space == stanza.NSServer):
		case c.Space == nsHints, c.Space == nsSID, c.Space == nsDelay:
		default:
			return false
		}
	}
	return state
}

// estimate approximates the serialised size of el cheaply.
func estimate(el *stanza.Element) int {
	n := 2*len(el.Local) + len(el.Space) + 16
	for _, a := range el.Attrs {
		n += len(a.Local) + len(a.Value) + 4
	}
	for _, c := range el.Children {
		if c.El != nil {
			n += estimate(c.El)
		} else {
			n += len(c.Text)
		}
	}
	return n
}
