package roster

import (
	"slices"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
)

// Namespaces: the roster (RFC 6121 §2), and the stream features for roster
// versioning (XEP-0237) and subscription pre-approval (RFC 6121 §3.4).
const (
	NS            = "jabber:iq:roster"
	NSVersioning  = "urn:xmpp:features:rosterver"
	NSPreApproval = "urn:xmpp:features:pre-approval"
)

// Item is one roster item as the user sees it.
type Item struct {
	JID    jid.JID
	Name   string
	Groups []string // sorted, no duplicates
	State  State    // State.PendingIn is not part of the item (RFC 6121 A.1)
	// Shared marks an item (partly) contributed by shared roster groups:
	// its subscription is 'both' and it cannot be removed.
	Shared bool
}

// Element returns the <item/> for a roster result or push.
func (it *Item) Element() *stanza.Element {
	el := stanza.New(NS, "item").SetAttr("jid", it.JID.String())
	if it.Name != "" {
		el.SetAttr("name", it.Name)
	}
	el.SetAttr("subscription", it.State.Sub.String())
	if it.State.PendingOut {
		el.SetAttr("ask", TypeSubscribe)
	}
	if it.State.Approved {
		el.SetAttr("approved", "true")
	}
	for _, g := range it.Groups {
		el.Append(stanza.New(NS, "group").AppendText(g))
	}
	return el
}

// removedElement is the <item/> of a push announcing a removal.
func removedElement(contact jid.JID) *stanza.Element {
	return stanza.New(NS, "item").SetAttr("jid", contact.String()).SetAttr("subscription", "remove")
}

func (it *Item) clone() *Item {
	c := *it
	c.Groups = slices.Clone(it.Groups)
	return &c
}

// itemState is the part of s stored on the item.
func itemState(s State) State {
	s.PendingIn = false
	return s
}
