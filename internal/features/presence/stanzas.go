package presence

import (
	"slices"
	"time"

	"github.com/parleyim/parley/internal/stanza"
)

// nsDelay is XEP-0203 Delayed Delivery.
const nsDelay = "urn:xmpp:delay"

// readdressed returns a shallow copy of el whose 'to' is to (removed when
// ""): the attributes are copied, the children shared, el is untouched.
func readdressed(el *stanza.Element, to string) *stanza.Element {
	c := &stanza.Element{Space: el.Space, Local: el.Local, Children: el.Children}
	c.Attrs = make([]stanza.Attr, 0, len(el.Attrs)+1)
	for _, a := range el.Attrs {
		if a.Space == "" && a.Local == "to" {
			continue
		}
		c.Attrs = append(c.Attrs, a)
	}
	if to != "" {
		c.Attrs = append(c.Attrs, stanza.Attr{Local: "to", Value: to})
	}
	return c
}

// withDelay returns a copy of el addressed to 'to' with an XEP-0203 delay
// stamped by domain at t.
func withDelay(el *stanza.Element, to, domain string, t time.Time) *stanza.Element {
	c := readdressed(el, to)
	d := stanza.New(nsDelay, "delay").
		SetAttr("from", domain).
		SetAttr("stamp", t.UTC().Format("2006-01-02T15:04:05.000Z"))
	c.Children = append(slices.Clip(c.Children), stanza.Node{El: d})
	return c
}

// newPresence builds a server-generated presence.
func newPresence(typ, from, to string) *stanza.Element {
	el := stanza.New(stanza.NSClient, stanza.KindPresence)
	if typ != "" {
		el.SetAttr("type", typ)
	}
	el.SetAttr("from", from)
	if to != "" {
		el.SetAttr("to", to)
	}
	return el
}
