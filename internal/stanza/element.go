package stanza

import (
	"strings"
)

// Namespaces every package needs.
const (
	NSClient = "jabber:client"
	NSServer = "jabber:server"
	NSStanza = "urn:ietf:params:xml:ns:xmpp-stanzas"
	NSXML    = "http://www.w3.org/XML/1998/namespace"
)

// Attr is one attribute. Space is the resolved namespace URI of a prefixed
// attribute (NSXML for xml:lang) and empty for an unprefixed one. Namespace
// declarations (xmlns, xmlns:p) are never stored as attributes: the
// tokenizer resolves them and the serialiser writes them back as needed.
type Attr struct {
	Space string
	Local string
	Value string
}

// Node is one child of an element: either an element (El != nil) or a run
// of character data (Text, unescaped).
type Node struct {
	El   *Element
	Text string
}

// Element is an XML element with its namespace resolved. Space is the
// namespace URI (never a prefix).
type Element struct {
	Space    string
	Local    string
	Attrs    []Attr
	Children []Node
}

// New returns an element with the given namespace and local name.
func New(space, local string) *Element {
	return &Element{Space: space, Local: local}
}

// Attr returns the value of the unprefixed attribute local, or "".
func (e *Element) Attr(local string) string {
	for i := range e.Attrs {
		if e.Attrs[i].Local == local && e.Attrs[i].Space == "" {
			return e.Attrs[i].Value
		}
	}
	return ""
}

// HasAttr reports whether the unprefixed attribute local is present.
func (e *Element) HasAttr(local string) bool {
	for i := range e.Attrs {
		if e.Attrs[i].Local == local && e.Attrs[i].Space == "" {
			return true
		}
	}
	return false
}

// SetAttr sets (or adds) the unprefixed attribute local. It returns e.
func (e *Element) SetAttr(local, value string) *Element {
	for i := range e.Attrs {
		if e.Attrs[i].Local == local && e.Attrs[i].Space == "" {
			e.Attrs[i].Value = value
			return e
		}
	}
	e.Attrs = append(e.Attrs, Attr{Local: local, Value: value})
	return e
}

// RemoveAttr deletes the unprefixed attribute local if present.
func (e *Element) RemoveAttr(local string) {
	for i := range e.Attrs {
		if e.Attrs[i].Local == local && e.Attrs[i].Space == "" {
			e.Attrs = append(e.Attrs[:i], e.Attrs[i+1:]...)
			return
		}
	}
}

// Lang returns the xml:lang attribute, or "".
func (e *Element) Lang() string {
	for i := range e.Attrs {
		if e.Attrs[i].Local == "lang" && e.Attrs[i].Space == NSXML {
			return e.Attrs[i].Value
		}
	}
	return ""
}

// Append adds child elements and returns e.
func (e *Element) Append(children ...*Element) *Element {
	for _, c := range children {
		e.Children = append(e.Children, Node{El: c})
	}
	return e
}

// AppendText adds character data and returns e.
func (e *Element) AppendText(s string) *Element {
	if s != "" {
		e.Children = append(e.Children, Node{Text: s})
	}
	return e
}

// Child returns the first child element with the given namespace and local
// name, or nil. An empty space matches any namespace.
func (e *Element) Child(space, local string) *Element {
	for _, n := range e.Children {
		if n.El != nil && n.El.Local == local && (space == "" || n.El.Space == space) {
			return n.El
		}
	}
	return nil
}

// ChildElements returns the child elements in order.
func (e *Element) ChildElements() []*Element {
	var out []*Element
	for _, n := range e.Children {
		if n.El != nil {
			out = append(out, n.El)
		}
	}
	return out
}

// NumChildElements counts the child elements (text is not counted),
// without collecting them.
func (e *Element) NumChildElements() int {
	n := 0
	for _, c := range e.Children {
		if c.El != nil {
			n++
		}
	}
	return n
}

// FirstChild returns the first child element, or nil.
func (e *Element) FirstChild() *Element {
	for _, n := range e.Children {
		if n.El != nil {
			return n.El
		}
	}
	return nil
}

// RemoveChildren deletes every child element for which drop returns true
// and reports how many were removed.
func (e *Element) RemoveChildren(drop func(*Element) bool) int {
	kept := e.Children[:0]
	removed := 0
	for _, n := range e.Children {
		if n.El != nil && drop(n.El) {
			removed++
			continue
		}
		kept = append(kept, n)
	}
	for i := len(kept); i < len(e.Children); i++ {
		e.Children[i] = Node{}
	}
	e.Children = kept
	return removed
}

// Text returns the concatenated character data directly inside e.
func (e *Element) Text() string {
	switch {
	case len(e.Children) == 1:
		return e.Children[0].Text
	case len(e.Children) == 0:
		return ""
	}
	var b strings.Builder
	for _, n := range e.Children {
		b.WriteString(n.Text)
	}
	return b.String()
}

// ChildText returns the text of the first matching child, or "".
func (e *Element) ChildText(space, local string) string {
	if c := e.Child(space, local); c != nil {
		return c.Text()
	}
	return ""
}

// Copy returns a deep copy of e. Strings are shared (they are immutable).
func (e *Element) Copy() *Element {
	if e == nil {
		return nil
	}
	c := &Element{Space: e.Space, Local: e.Local}
	if len(e.Attrs) > 0 {
		c.Attrs = append(make([]Attr, 0, len(e.Attrs)+1), e.Attrs...)
	}
	if len(e.Children) > 0 {
		c.Children = make([]Node, len(e.Children))
		for i, n := range e.Children {
			if n.El != nil {
				c.Children[i] = Node{El: n.El.Copy()}
			} else {
				c.Children[i] = n
			}
		}
	}
	return c
}

// String returns the serialised element, with its namespace declared.
func (e *Element) String() string {
	return string(e.AppendXML(nil, ""))
}
