package xmlstream

import (
	"strings"

	"github.com/parleyim/parley/internal/stanza"
)

// declare checks the attributes of the tag just parsed for duplicates and
// puts its namespace declarations in scope.
func (p *parser) declare() error {
	for i := range p.raw {
		a := &p.raw[i]
		for j := 0; j < i; j++ {
			if p.raw[j].name == a.name {
				return p.fail(condNotWellFormed, "duplicate attribute "+a.name)
			}
		}
		switch {
		case a.name == "xmlns":
			a.decl = true
			if a.value == stanza.NSXML || a.value == nsXMLNS {
				return p.fail(condNotWellFormed, "reserved namespace declared as default")
			}
			p.def = internNS(a.value)
		case a.colon >= 0 && a.name[:a.colon] == "xmlns":
			a.decl = true
			if err := p.bind(a.name[a.colon+1:], a.value); err != nil {
				return err
			}
		}
	}
	return nil
}

// bind declares prefix for uri (xmlns:prefix='uri'), following the rules
// of Namespaces in XML 1.0 §3.
func (p *parser) bind(prefix, uri string) error {
	switch {
	case prefix == "xml" && uri == stanza.NSXML:
		return nil // allowed, and already in scope
	case prefix == "xml" || prefix == "xmlns":
		return p.fail(condNotWellFormed, "the "+prefix+" prefix cannot be declared")
	case uri == "":
		return p.fail(condNotWellFormed, "a namespace prefix cannot be undeclared")
	case uri == stanza.NSXML || uri == nsXMLNS:
		return p.fail(condNotWellFormed, "reserved namespace bound to a prefix")
	case len(p.ns) >= maxBindings:
		return p.fail(condPolicy, "too many namespace declarations")
	}
	p.ns = append(p.ns, binding{prefix: prefix, uri: internNS(uri)})
	return nil
}

// lookup returns the namespace bound to a prefix.
func (p *parser) lookup(prefix string) (string, bool) {
	for i := len(p.ns) - 1; i >= 0; i-- {
		if p.ns[i].prefix == prefix {
			return p.ns[i].uri, true
		}
	}
	return "", false
}

// elementSpace resolves the namespace of the element named in t.
func (p *parser) elementSpace(t tagInfo) (string, error) {
	if t.colon < 0 {
		return p.def, nil
	}
	prefix := t.prefix()
	if prefix == "xml" {
		return "", p.fail(condBadPrefix, "elements cannot be in the xml namespace")
	}
	uri, ok := p.lookup(prefix)
	if !ok {
		return "", p.fail(condBadPrefix, "undeclared namespace prefix "+prefix)
	}
	return uri, nil
}

// resolveAttrs returns the attributes of the tag just parsed, without the
// namespace declarations, with their namespaces resolved.
func (p *parser) resolveAttrs() ([]stanza.Attr, error) {
	n := 0
	for i := range p.raw {
		if !p.raw[i].decl {
			n++
		}
	}
	if n == 0 {
		return nil, nil
	}
	attrs := grab(&p.attrs, n)
	prefixed := false
	k := 0
	for i := range p.raw {
		a := &p.raw[i]
		if a.decl {
			continue
		}
		at := &attrs[k]
		k++
		at.Local, at.Value = a.name[a.colon+1:], a.value
		if a.colon >= 0 {
			prefixed = true
			var err error
			if at.Space, err = p.attrSpace(a.name[:a.colon]); err != nil {
				return nil, err
			}
		}
	}
	if prefixed {
		return attrs, p.checkExpanded(attrs)
	}
	return attrs, nil
}

func (p *parser) attrSpace(prefix string) (string, error) {
	if prefix == "xml" {
		return stanza.NSXML, nil
	}
	uri, ok := p.lookup(prefix)
	if !ok {
		return "", p.fail(condBadPrefix, "undeclared namespace prefix "+prefix)
	}
	return uri, nil
}

// checkExpanded rejects two attributes with the same namespace and local
// name written with different prefixes (Namespaces in XML 1.0 §6.3).
func (p *parser) checkExpanded(attrs []stanza.Attr) error {
	for i := range attrs {
		for j := 0; j < i; j++ {
			if attrs[i].Space != "" && attrs[i].Space == attrs[j].Space && attrs[i].Local == attrs[j].Local {
				return p.fail(condNotWellFormed, "duplicate attribute "+attrs[i].Local)
			}
		}
	}
	return nil
}

// knownNS holds the namespaces Parley meets all the time, so resolved
// namespaces share one string instead of keeping a stanza's text alive.
var knownNS = func() map[string]string {
	m := make(map[string]string)
	for _, ns := range []string{
		stanza.NSClient, stanza.NSServer, stanza.NSStanza, stanza.NSXML, NSStream,
		"urn:ietf:params:xml:ns:xmpp-streams",
		"urn:ietf:params:xml:ns:xmpp-tls",
		"urn:ietf:params:xml:ns:xmpp-sasl",
		"urn:ietf:params:xml:ns:xmpp-bind",
		"urn:ietf:params:xml:ns:xmpp-session",
		"jabber:iq:roster", "jabber:iq:version", "jabber:iq:private",
		"jabber:iq:register", "jabber:iq:last", "jabber:x:data", "vcard-temp",
		"http://jabber.org/protocol/disco#info",
		"http://jabber.org/protocol/disco#items",
		"http://jabber.org/protocol/caps",
		"http://jabber.org/protocol/chatstates",
		"urn:xmpp:ping", "urn:xmpp:time", "urn:xmpp:delay", "urn:xmpp:receipts",
		"urn:xmpp:carbons:2", "urn:xmpp:forward:0", "urn:xmpp:sm:3",
		"urn:xmpp:mam:2", "urn:xmpp:csi:0", "urn:xmpp:blocking",
		"urn:xmpp:hints", "urn:xmpp:sid:0",
	} {
		m[ns] = ns
	}
	return m
}()

// internNS returns the shared copy of a well-known namespace, or s.
func internNS(s string) string {
	if k, ok := knownNS[s]; ok {
		return k
	}
	return s
}

// detachNS is internNS for values kept for the whole stream: unknown ones
// are copied so they do not keep the header's text alive.
func detachNS(s string) string {
	if k, ok := knownNS[s]; ok {
		return k
	}
	return strings.Clone(s)
}
