package xmlstream

import (
	"strings"

	"github.com/parleyim/parley/internal/stanza"
)

// Header is the opening <stream:stream> tag.
type Header struct {
	Space        string // the default (content) namespace declared on it, e.g. "jabber:client"; "" if none
	StreamPrefix string // prefix bound to NSStream ("stream" usually; "" if it is the default namespace)

	To, From, ID, Version, Lang string // attributes; Lang is xml:lang
}

// header parses the stream header tag in p.s. On success p.def and p.ns
// hold the stream-level namespace declarations.
func (p *parser) header() (Header, tagInfo, error) {
	t, err := p.parseTag()
	if err != nil {
		return Header{}, t, err
	}
	if t.empty {
		return Header{}, t, p.fail(condNotWellFormed, "the stream header must not be an empty element")
	}
	if err := p.declare(); err != nil {
		return Header{}, t, err
	}
	space, err := p.elementSpace(t)
	if err != nil {
		return Header{}, t, err
	}
	if space != NSStream {
		return Header{}, t, p.fail(condInvalidNS, "the stream element is not in the "+NSStream+" namespace")
	}
	if t.local() != "stream" {
		return Header{}, t, p.fail(condInvalidXML, "the root element must be stream, not "+clip(t.local()))
	}
	attrs, err := p.resolveAttrs()
	if err != nil {
		return Header{}, t, err
	}
	h := Header{Space: p.def, StreamPrefix: t.prefix()}
	for _, a := range attrs {
		switch {
		case a.Space == stanza.NSXML && a.Local == "lang":
			h.Lang = a.Value
		case a.Space != "":
		case a.Local == "to":
			h.To = a.Value
		case a.Local == "from":
			h.From = a.Value
		case a.Local == "id":
			h.ID = a.Value
		case a.Local == "version":
			h.Version = a.Value
		}
	}
	return h, t, nil
}

// xmlDecl checks a processing instruction found before the stream header:
// only the XML declaration (<?xml version='1.0' encoding='UTF-8'?>) is
// allowed, and only as the first thing in the stream.
func (p *parser) xmlDecl(first bool) error {
	p.i = 2 // "<?"
	end, _, ok := scanName(p.s, p.i)
	target := p.s[p.i:end]
	switch {
	case !ok || target != "xml" && strings.EqualFold(target, "xml"):
		return p.fail(condNotWellFormed, "invalid processing instruction")
	case target != "xml":
		return p.fail(condRestricted, "processing instructions are not allowed")
	case !first:
		return p.fail(condNotWellFormed, "the XML declaration must come first")
	}
	p.i = end
	p.raw = p.raw[:0]
	for {
		spaced := p.skipSpace()
		if strings.HasPrefix(p.s[p.i:], "?>") && p.i+2 == len(p.s) {
			break
		}
		if !spaced || len(p.raw) == 3 {
			return p.fail(condNotWellFormed, "malformed XML declaration")
		}
		if err := p.attribute(); err != nil {
			return err
		}
	}
	return p.checkDecl()
}

// checkDecl checks the pseudo-attributes of the XML declaration: version,
// then optionally encoding (which must be UTF-8, RFC 6120 §11.6) and
// standalone, in this order.
func (p *parser) checkDecl() error {
	want := []string{"version", "encoding", "standalone"}
	for _, a := range p.raw {
		for len(want) > 0 && want[0] != a.name && want[0] != "version" {
			want = want[1:]
		}
		if len(want) == 0 || want[0] != a.name {
			return p.fail(condNotWellFormed, "malformed XML declaration")
		}
		want = want[1:]
		if !validDeclValue(a.name, a.value) {
			if a.name == "version" && strings.HasPrefix(a.value, "1.") {
				return p.fail(condNotWellFormed, "XML version "+clip(a.value)+" is not supported: XMPP streams are XML 1.0 (RFC 6120 §11.8)")
			}
			if a.name == "encoding" {
				return p.fail(condEncoding, "encoding "+clip(a.value)+" is not supported, only UTF-8")
			}
			return p.fail(condNotWellFormed, "invalid "+a.name+" in the XML declaration")
		}
	}
	if len(p.raw) == 0 {
		return p.fail(condNotWellFormed, "the XML declaration has no version")
	}
	return nil
}

func validDeclValue(name, v string) bool {
	switch name {
	case "version":
		return v == "1.0"
	case "encoding":
		return strings.EqualFold(v, "UTF-8")
	}
	return v == "yes" || v == "no"
}

// streamEnd checks an end tag found at stream level: it must close the
// stream element.
func (p *parser) streamEnd(want string) error {
	p.i = 2 // "</"
	name, _, err := p.qname()
	if err != nil {
		return err
	}
	p.skipSpace()
	if p.i != len(p.s)-1 {
		return p.fail(condNotWellFormed, "malformed end tag")
	}
	if name != want {
		return p.fail(condNotWellFormed, "end tag </"+name+"> does not match <"+want+">")
	}
	return nil
}
