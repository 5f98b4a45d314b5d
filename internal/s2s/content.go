package s2s

import (
	"github.com/parleyim/parley/internal/stanza"
)

// appendStanza serialises el for a stream whose content namespace is not
// jabber:client (jabber:server, jabber:component:accept). Inside the
// server stanzas are in jabber:client; written as if that were the
// parent namespace, the stanza and its jabber:client children carry no
// xmlns and so take the stream's, while a jabber:client stanza nested in
// another namespace (a forwarded message) keeps its own declaration.
func appendStanza(b []byte, el *stanza.Element) []byte {
	return el.AppendXML(b, stanza.NSClient)
}

// toClient moves a stanza read from a stream in content namespace ns into
// jabber:client, the namespace the rest of the server works in: every
// element of the tree in ns, at any depth.
func toClient(el *stanza.Element, ns string) {
	if el.Space == ns {
		el.Space = stanza.NSClient
	}
	for _, n := range el.Children {
		if n.El != nil {
			toClient(n.El, ns)
		}
	}
}

// isStanzaIn reports whether el is a message, presence or iq in the
// content namespace ns.
func isStanzaIn(el *stanza.Element, ns string) bool {
	if el.Space != ns {
		return false
	}
	switch el.Local {
	case stanza.KindMessage, stanza.KindPresence, stanza.KindIQ:
		return true
	}
	return false
}
