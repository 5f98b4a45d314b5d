package xmlstream

import (
	"errors"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/parleyim/parley/internal/stanza"
)

const (
	maxNameLen  = 1024 // longest element or attribute name accepted
	maxBindings = 256  // prefixed namespace declarations in scope at once
	nsXMLNS     = "http://www.w3.org/2000/xmlns/"
)

// binding is one in-scope prefixed namespace declaration.
type binding struct {
	prefix, uri string
}

// rawAttr is an attribute as written in a tag, before namespace resolution.
type rawAttr struct {
	name  string // qualified name
	colon int    // index of ':' in name, -1 if unprefixed
	value string // normalised and unescaped
	decl  bool   // a namespace declaration (xmlns or xmlns:p)
}

// tagInfo is what parseTag learns about a start tag besides its attributes.
type tagInfo struct {
	name  string // qualified name as written
	colon int    // index of ':' in name, -1 if unprefixed
	empty bool   // the tag ended with "/>"
}

func (t tagInfo) prefix() string {
	if t.colon < 0 {
		return ""
	}
	return t.name[:t.colon]
}

func (t tagInfo) local() string { return t.name[t.colon+1:] }

// openEl is an element whose end tag has not been seen yet.
type openEl struct {
	el   *stanza.Element
	name string // qualified name, which the end tag must repeat
	kids int    // where its children start in parser.kids
	ns   int    // length of parser.ns before its declarations
	def  string // default namespace in scope outside it
}

// parser parses one complete element (or the stream header) held in a
// string. Names, plain text and plain attribute values in the result are
// substrings of that string; only text and values with references or
// line ends to normalise are copied. The elements, the attributes and the
// children of a stanza are each allocated as one array (sized from what
// the framer counted) and every element gets an exactly sized part of it.
//
// Parsers hold only scratch space, reused through a pool, so an idle
// stream does not keep any.
type parser struct {
	s    string // what is parsed
	i    int    // read position in s
	base int64  // stream offset of s[0], for error messages
	lim  Limits

	// partial: s may be the beginning of an element only; running out of
	// input is then errTruncated instead of an error (Decoder.firstError).
	partial bool

	def  string    // default namespace in scope
	ns   []binding // prefixed namespace declarations in scope, innermost last
	raw  []rawAttr // attributes of the tag being parsed
	open []openEl  // elements not yet closed, innermost last

	kids []stanza.Node // children of the open elements, innermost last

	// The stanza being built.
	root  *stanza.Element
	els   []stanza.Element // elements not used yet
	attrs []stanza.Attr    // attribute array, used up to len
	nodes []stanza.Node    // children array, used up to len

	// Pending character data of the innermost open element: a substring of
	// s while it needs no decoding, else built in tb.
	text    string
	hasText bool
	inTB    bool
	tb      strings.Builder
}

var parsers = sync.Pool{New: func() any { return new(parser) }}

func getParser(s string, base int64, lim Limits, def string, ns []binding) *parser {
	p := parsers.Get().(*parser)
	p.s, p.i, p.base, p.lim = s, 0, base, lim
	p.def = def
	p.ns = append(p.ns[:0], ns...)
	return p
}

// put clears p (so it keeps no part of the stream alive) and returns it to
// the pool.
func (p *parser) put() {
	p.s, p.def, p.text = "", "", ""
	p.hasText, p.inTB, p.partial = false, false, false
	p.tb.Reset()
	p.root, p.els, p.attrs, p.nodes = nil, nil, nil, nil
	p.ns = reuse(p.ns)
	p.raw = reuse(p.raw)
	p.open = reuse(p.open)
	p.kids = reuse(p.kids)
	parsers.Put(p)
}

// reuse empties a scratch slice for the next use, or drops it if an unusual
// stanza made it big. Entries past len were cleared when they were popped.
func reuse[T any](s []T) []T {
	if cap(s) > 128 {
		return nil
	}
	clear(s)
	return s[:0]
}

// grab takes n entries from the stanza's array *arr and returns them as an
// exactly sized slice. If the framer's estimate was short (it should not
// be), a new array is started.
func grab[T any](arr *[]T, n int) []T {
	a := *arr
	if cap(a)-len(a) < n {
		a = make([]T, 0, n)
	}
	end := len(a) + n
	*arr = a[:end]
	return a[len(a):end:end]
}

func (p *parser) fail(cond, text string) error {
	return errAt(cond, text, p.base+int64(p.i))
}

// errTruncated is what a partial parse returns when it runs out of input
// before finding an error.
var errTruncated = errors.New("xmlstream: element incomplete")

// short reports running out of input at the end of s: errTruncated when
// parsing partially, else a not-well-formed error with text.
func (p *parser) short(text string) error {
	if p.partial {
		return errTruncated
	}
	return p.fail(condNotWellFormed, text)
}

// atEnd reports whether a partial parse has used all its input.
func (p *parser) atEnd() bool {
	return p.partial && p.i >= len(p.s)
}

func (p *parser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *parser) peekAt(k int) byte {
	if p.i+k < len(p.s) {
		return p.s[p.i+k]
	}
	return 0
}

// skipSpace skips white space and reports whether there was any.
func (p *parser) skipSpace() bool {
	start := p.i
	for p.i < len(p.s) && isSpace(p.s[p.i]) {
		p.i++
	}
	return p.i > start
}

// element parses s, which the framer found to hold exactly one element,
// into a tree. c is what the framer counted in it.
func (p *parser) element(c counts) (*stanza.Element, error) {
	el, err := p.first(c)
	if err != nil {
		return nil, err
	}
	if p.i != len(p.s) {
		return nil, p.fail(condNotWellFormed, "unexpected data after element")
	}
	return el, nil
}

// first parses the element at the start of s and stops after it.
func (p *parser) first(c counts) (*stanza.Element, error) {
	p.els = make([]stanza.Element, c.elems)
	if c.attrs > 0 {
		p.attrs = make([]stanza.Attr, 0, c.attrs)
	}
	if n := c.elems - 1 + c.texts; n > 0 {
		p.nodes = make([]stanza.Node, 0, n)
	}
	for {
		if p.i >= len(p.s) {
			return nil, p.short("unexpected end of element")
		}
		if err := p.step(); err != nil {
			return nil, err
		}
		if len(p.open) == 0 {
			break
		}
	}
	if p.root == nil {
		return nil, p.fail(condNotWellFormed, "unexpected data after element")
	}
	return p.root, nil
}

// step parses one piece of content: a tag, character data or CDATA.
func (p *parser) step() error {
	if p.s[p.i] != '<' {
		return p.charData()
	}
	if p.partial && p.i+1 >= len(p.s) {
		return errTruncated
	}
	switch p.peekAt(1) {
	case '/':
		return p.endTag()
	case '?':
		return p.fail(condRestricted, "processing instructions are not allowed")
	case '!':
		rest := p.s[p.i:]
		switch {
		case p.partial && len(rest) < len("<![CDATA[") && strings.HasPrefix("<![CDATA[", rest):
			return errTruncated
		case strings.HasPrefix(rest, "<![CDATA[") && len(p.open) == 0:
			return p.fail(condNotWellFormed, "character data outside of stanzas")
		case strings.HasPrefix(rest, "<![CDATA["):
			return p.cdata()
		case strings.HasPrefix(rest, "<!--"):
			return p.fail(condRestricted, "comments are not allowed")
		}
		return p.fail(condRestricted, "DTDs and declarations are not allowed")
	}
	return p.startTag()
}

// startTag parses a start tag and opens (or, for "<x/>", adds) an element.
func (p *parser) startTag() error {
	if len(p.open) >= p.lim.MaxDepth {
		return p.fail(condPolicy, "elements nested too deep")
	}
	p.flushText()
	t, err := p.parseTag()
	if err != nil {
		return err
	}
	outerDef, mark := p.def, len(p.ns)
	if err := p.declare(); err != nil {
		return err
	}
	space, err := p.elementSpace(t)
	if err != nil {
		return err
	}
	if len(p.open) == 0 && space == NSStream && t.local() == "stream" {
		return p.fail(condNotWellFormed, "stream header inside the stream")
	}
	attrs, err := p.resolveAttrs()
	if err != nil {
		return err
	}
	el := p.newElement()
	el.Space, el.Local, el.Attrs = space, t.local(), attrs
	if len(p.open) > 0 {
		p.kids = append(p.kids, stanza.Node{El: el})
	} else {
		p.root = el
	}
	p.open = append(p.open, openEl{el: el, name: t.name, kids: len(p.kids), ns: mark, def: outerDef})
	if t.empty {
		p.closeElement()
	}
	return nil
}

func (p *parser) newElement() *stanza.Element {
	if len(p.els) > 0 {
		el := &p.els[0]
		p.els = p.els[1:]
		return el
	}
	return new(stanza.Element)
}

// parseTag parses "<name attr='v' ...>" or ".../>" at p.i, leaving the
// attributes in p.raw.
func (p *parser) parseTag() (tagInfo, error) {
	var t tagInfo
	var err error
	p.i++ // '<'
	if t.name, t.colon, err = p.qname(); err != nil {
		return t, err
	}
	clear(p.raw)
	p.raw = p.raw[:0]
	for {
		spaced := p.skipSpace()
		if p.atEnd() {
			return t, errTruncated
		}
		switch p.peek() {
		case '>':
			p.i++
			return t, nil
		case '/':
			p.i++
			if p.atEnd() {
				return t, errTruncated
			}
			if p.peek() != '>' {
				return t, p.fail(condNotWellFormed, "expected '>' after '/'")
			}
			p.i++
			t.empty = true
			return t, nil
		}
		if !spaced {
			return t, p.fail(condNotWellFormed, "expected white space, '>' or '/>' in tag")
		}
		if len(p.raw) >= p.lim.MaxAttrs {
			return t, p.fail(condPolicy, "too many attributes")
		}
		if err := p.attribute(); err != nil {
			return t, err
		}
	}
}

// qname reads a qualified name at p.i.
func (p *parser) qname() (name string, colon int, err error) {
	end, c, ok := scanName(p.s, p.i)
	if p.partial && (end == len(p.s) || !utf8.FullRuneInString(p.s[end:])) {
		return "", -1, errTruncated // the name may go on
	}
	if !ok {
		p.i = end
		return "", -1, p.fail(condNotWellFormed, "invalid name")
	}
	if end-p.i > maxNameLen {
		return "", -1, p.fail(condPolicy, "name too long")
	}
	name = p.s[p.i:end]
	if c >= 0 {
		c -= p.i
	}
	p.i = end
	return name, c, nil
}

// attribute parses name = 'value' and appends it to p.raw.
func (p *parser) attribute() error {
	name, colon, err := p.qname()
	if err != nil {
		return err
	}
	p.skipSpace()
	if p.atEnd() {
		return errTruncated
	}
	if p.peek() != '=' {
		return p.fail(condNotWellFormed, "expected '=' after attribute name")
	}
	p.i++
	p.skipSpace()
	if p.atEnd() {
		return errTruncated
	}
	if q := p.peek(); q != '"' && q != '\'' {
		return p.fail(condNotWellFormed, "attribute value must be quoted")
	}
	value, err := p.attrValue()
	if err != nil {
		return err
	}
	p.raw = append(p.raw, rawAttr{name: name, colon: colon, value: value})
	return nil
}

// attrValue reads a quoted attribute value at p.i and returns it
// normalised and unescaped.
func (p *parser) attrValue() (string, error) {
	s, q := p.s, p.s[p.i]
	p.i++
	start, slow := p.i, false
	for {
		if p.i >= len(s) {
			return "", p.short("unterminated attribute value")
		}
		c := s[p.i]
		switch {
		case c == q:
			raw := s[start:p.i]
			p.i++
			if !slow {
				return raw, nil
			}
			var b strings.Builder
			b.Grow(len(raw))
			writeAttr(&b, raw)
			return b.String(), nil
		case class[c]&bAttr != 0:
			p.i++
		case c == '<':
			return "", p.fail(condNotWellFormed, "'<' in attribute value")
		case c == '&':
			slow = true
			if err := p.skipRef(); err != nil {
				return "", err
			}
		case c == '\t' || c == '\n' || c == '\r':
			slow = true
			p.i++
		default:
			if err := p.skipRune(); err != nil {
				return "", err
			}
		}
	}
}

// skipRef checks the reference at p.i and moves past it.
func (p *parser) skipRef() error {
	_, n, cond, text := reference(p.s, p.i)
	if cond != "" && p.partial && refPrefix(p.s[p.i:]) {
		return errTruncated
	}
	if cond != "" {
		return p.fail(cond, text)
	}
	p.i += n
	return nil
}

// skipRune checks the character at p.i, which is not plain ASCII, and
// moves past it.
func (p *parser) skipRune() error {
	c := p.s[p.i]
	if c < utf8.RuneSelf {
		if isSpace(c) {
			p.i++
			return nil
		}
		return p.fail(condNotWellFormed, "control character not allowed in XML")
	}
	if p.partial && !utf8.FullRuneInString(p.s[p.i:]) {
		return errTruncated
	}
	r, n := utf8.DecodeRuneInString(p.s[p.i:])
	if r == utf8.RuneError && n == 1 {
		return p.fail(condNotWellFormed, "invalid UTF-8")
	}
	if !isChar(r) {
		return p.fail(condNotWellFormed, "character not allowed in XML")
	}
	p.i += n
	return nil
}

// endTag parses "</name>" and closes the innermost element.
func (p *parser) endTag() error {
	p.flushText()
	p.i += 2
	name, _, err := p.qname()
	if err != nil {
		return err
	}
	if len(p.open) == 0 {
		return p.fail(condNotWellFormed, "unexpected end tag")
	}
	if want := p.open[len(p.open)-1].name; name != want {
		return p.fail(condNotWellFormed, "end tag </"+clip(name)+"> does not match <"+clip(want)+">")
	}
	p.skipSpace()
	if p.atEnd() {
		return errTruncated
	}
	if p.peek() != '>' {
		return p.fail(condNotWellFormed, "expected '>' in end tag")
	}
	p.i++
	p.closeElement()
	return nil
}

// closeElement moves the children of the innermost open element from the
// stack into the stanza's children array and pops its namespace scope.
func (p *parser) closeElement() {
	top := p.open[len(p.open)-1]
	if kids := p.kids[top.kids:]; len(kids) > 0 {
		top.el.Children = grab(&p.nodes, len(kids))
		copy(top.el.Children, kids)
		clear(kids)
		p.kids = p.kids[:top.kids]
	}
	clear(p.ns[top.ns:])
	p.ns = p.ns[:top.ns]
	p.def = top.def
	p.open[len(p.open)-1] = openEl{}
	p.open = p.open[:len(p.open)-1]
}
