package xmlstream

import (
	"bytes"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// The framer finds where the next top-level construct (the stream header,
// the XML declaration, a stanza, or the closing </stream:stream>) ends, as
// bytes arrive. It keeps its state between reads, so each byte is looked
// at once however the input is chunked.
//
// It applies the parser's grammar to everything that decides where a
// construct ends, so that the two always agree on it and a structural
// error is reported as soon as its bytes arrive, never after a later
// stanza: tag syntax (names, attributes, quoting, "/>"), end tags matching
// the open elements by name (kept as offsets into the buffered construct,
// at most the depth limit of them), nesting depth, attributes per tag,
// CDATA sections, and the restricted constructs (comments, DTDs,
// processing instructions). It alone bounds what the stanza's tree would
// cost (Limits.MaxMemory), at each element, before anything is built.
// What only the content decides (characters,
// references, namespaces, duplicate attributes) is left to the parser,
// which sees each complete element; when the framer fails, or the input
// ends or reaches the size limit inside a construct, the parser looks at
// what was scanned so that the first error in stream order is reported
// (Decoder.firstError).

// Framer states.
const (
	fsIdle     = iota // no construct started: skipping white space
	fsLT              // after '<'
	fsName            // the element name of a start tag
	fsTag             // in a start tag, after the name or an attribute value
	fsAttrName        // an attribute name
	fsEq              // after an attribute name, before '='
	fsValue           // after '=', before the quote
	fsQuote           // inside a quoted attribute value
	fsSlash           // after '/' in a start tag
	fsEndName         // the name of an end tag
	fsEndTail         // after the name of an end tag, before '>'
	fsBang            // after "<!": only "<![CDATA[" is allowed
	fsCDATA           // inside a CDATA section
	fsText            // character data
	fsPI              // inside "<?...?>", before the stream header
)

const cdataOpen = "[CDATA[" // after "<!"

// span is where an open element's name is in the construct.
type span struct{ off, n int32 }

type framer struct {
	state     uint8
	quote     byte // the quote that ends the current attribute value
	spaced    bool // white space since the last name or value in a tag
	nameSlow  bool // the name being scanned has a colon or non-ASCII
	inText    bool // a run of character data was counted in texts
	matched   int  // bytes of cdataOpen seen in fsBang
	off       int  // bytes of the construct scanned, counted from Decoder.r
	nameStart int  // offset of the name being scanned
	attrs     int  // attributes in the current start tag
	depth     int  // open elements in the construct
	open      []span

	// What the construct holds, so the parser can allocate it at once.
	counts counts
}

// reset prepares the framer for the next construct, keeping the name
// stack's array.
func (f *framer) reset() {
	open := f.open[:0]
	*f = framer{open: open}
}

// counts are what a stanza holds (elements and attributes exactly, runs
// of text at most).
type counts struct {
	elems int // start tags
	attrs int // attributes, namespace declarations included
	texts int // runs of character data and CDATA sections
}

// scan advances the framer over the buffered bytes. It returns the length
// of the construct once complete, or 0 if more bytes are needed. In header
// mode the construct ends with the first start tag (the stream header).
// It never looks past the first limit bytes of the construct, so what it
// reports does not depend on how many bytes happen to be buffered.
func (d *Decoder) scan(header bool, limit int) (int, error) {
	f := &d.fr
	b := d.buf[d.r:min(d.w, d.r+limit)]
	for f.off < len(b) {
		var done bool
		var err error
		off, state := f.off, f.state
		switch f.state {
		case fsLT:
			err = d.scanLT(b, header)
		case fsName, fsTag, fsAttrName, fsEq, fsValue, fsQuote, fsSlash, fsEndName, fsEndTail:
			done, err = d.scanTag(b, header)
		case fsBang:
			err = d.scanBang(b)
		case fsCDATA:
			f.scanCDATA(b)
		case fsText:
			f.scanText(b)
		case fsPI:
			done = f.scanPI(b)
		}
		if err != nil {
			return 0, err
		}
		if done {
			return f.off, nil
		}
		if f.off == off && f.state == state {
			break // the rest of a character is still to come
		}
	}
	return 0, nil
}

// frameErr reports a problem at the framer's position.
func (d *Decoder) frameErr(cond, text string) error {
	return errAt(cond, text, d.consumed+int64(d.fr.off))
}

// scanLT decides what kind of markup follows a '<'.
func (d *Decoder) scanLT(b []byte, header bool) error {
	f := &d.fr
	c := b[f.off]
	switch {
	case c == '/':
		f.state, f.nameStart, f.nameSlow = fsEndName, f.off+1, false
	case c == '?' && header && f.depth == 0:
		f.state = fsPI
	case c == '?':
		return d.frameErr(condRestricted, "processing instructions are not allowed")
	case c == '!' && header:
		return d.frameErr(condRestricted, "DTDs and comments are not allowed")
	case c == '!':
		f.state, f.matched = fsBang, 0
	case c == 0 && header:
		return d.frameErr(condEncoding, "the stream is not UTF-8")
	case !header && f.depth >= d.lim.MaxDepth:
		return d.frameErr(condPolicy, "elements nested too deep")
	case !header && d.tooCostly(elemCost):
		return d.memoryErr()
	default: // a start tag: the name is checked when it ends
		f.depth++
		f.counts.elems++
		f.state, f.nameStart, f.nameSlow, f.attrs, f.spaced = fsName, f.off, false, 0, false
		return nil
	}
	f.off++
	return nil
}

// scanTag runs the states of a start or an end tag over b, until the tag
// ends (and with it, maybe, the construct) or b does.
func (d *Decoder) scanTag(b []byte, header bool) (bool, error) {
	f := &d.fr
	for f.off < len(b) {
		c := b[f.off]
		switch f.state {
		case fsName, fsAttrName, fsEndName:
			i := f.off
			for i < len(b) && class[b[i]]&bName != 0 {
				i++
			}
			if f.off = i; i == len(b) {
				return false, nil
			}
			if c = b[i]; c < utf8.RuneSelf && c != ':' { // the usual end of a name
				if err := d.nameEnded(b); err != nil {
					return false, err
				}
			} else if more, err := d.nameByte(b, c); more || err != nil {
				return false, err
			}
		case fsTag:
			if isSpace(c) {
				f.spaced = true
				f.off++
				continue
			}
			if err := d.tagByte(c, header); err != nil {
				return false, err
			}
			if c == '>' {
				return d.tagEnded(b, header)
			}
		case fsEq, fsValue:
			if err := d.attrByte(c); err != nil {
				return false, err
			}
		case fsQuote:
			if err := d.scanQuote(b); err != nil {
				return false, err
			}
		case fsSlash, fsEndTail:
			switch {
			case c == '>':
				f.off++
				return d.closed(header), nil
			case isSpace(c) && f.state == fsEndTail:
				f.off++
			case f.state == fsSlash:
				return false, d.frameErr(condNotWellFormed, "expected '>' after '/'")
			default:
				return false, d.frameErr(condNotWellFormed, "expected '>' in end tag")
			}
		default:
			return false, nil
		}
	}
	return false, nil
}

// nameByte handles a byte of a name that is not an ASCII name character:
// a colon or a non-ASCII character goes on the name (the name is checked
// with the parser's own rules when it ends); anything else ends it. more
// reports that the rest of a character is still to come.
func (d *Decoder) nameByte(b []byte, c byte) (more bool, err error) {
	f := &d.fr
	switch {
	case c == ':':
		f.nameSlow = true
		f.off++
		return false, nil
	case c >= utf8.RuneSelf:
		if !utf8.FullRune(b[f.off:]) {
			return true, nil
		}
		if r, n := utf8.DecodeRune(b[f.off:]); n > 1 && isNameRune(r) {
			f.nameSlow = true
			f.off += n
			return false, nil
		}
	}
	return false, d.nameEnded(b)
}

// nameEnded checks the name just scanned, b[nameStart:off], and acts on
// it: push the element, match the end tag, or go on to the attribute's
// '='.
func (d *Decoder) nameEnded(b []byte) error {
	f := &d.fr
	name := b[f.nameStart:f.off]
	if f.state == fsEndName && f.depth > 0 {
		return d.endNameEnded(b, name)
	}
	if err := d.checkName(name); err != nil {
		return err
	}
	switch f.state {
	case fsName:
		f.open = append(f.open, span{int32(f.nameStart), int32(len(name))})
		f.state = fsTag
	case fsAttrName:
		f.state = fsEq
		if k := f.off; k+1 < len(b) && b[k] == '=' && (b[k+1] == '\'' || b[k+1] == '"') {
			f.state, f.quote, f.off = fsQuote, b[k+1], k+2 // name='value', the usual way
		}
	case fsEndName: // </stream:stream>, which the parser checks
		f.state = fsEndTail
	}
	return nil
}

// endNameEnded matches the name of an end tag with the innermost open
// element. The same name is valid (it was checked in the start tag);
// another one is checked first, as the parser does, to report a name too
// long or invalid before the mismatch.
func (d *Decoder) endNameEnded(b, name []byte) error {
	f := &d.fr
	top := f.open[len(f.open)-1]
	if want := b[top.off : top.off+top.n]; !bytes.Equal(name, want) {
		if err := d.checkName(name); err != nil {
			return err
		}
		return d.frameErr(condNotWellFormed, "end tag </"+clip(string(name))+"> does not match <"+clip(string(want))+">")
	}
	f.state = fsEndTail
	return nil
}

// checkName applies the parser's rules (qname in parse.go) to a name.
func (d *Decoder) checkName(name []byte) error {
	ok, end := len(name) > 0 && class[name[0]]&bNameStart != 0, len(name)
	if d.fr.nameSlow { // a colon or non-ASCII: the full QName rules
		end, _, ok = scanName(bstr(name), 0)
	}
	switch {
	case !ok:
		return d.frameErr(condNotWellFormed, "invalid name")
	case end > maxNameLen:
		return d.frameErr(condPolicy, "name too long")
	case end < len(name):
		return d.frameErr(condNotWellFormed, "invalid name")
	}
	return nil
}

// bstr views b as a string for a call that does not keep it.
func bstr(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// tagByte reads a byte of a start tag after its name or an attribute
// value: white space, then an attribute, '>' or "/>".
func (d *Decoder) tagByte(c byte, header bool) error {
	f := &d.fr
	switch {
	case isSpace(c):
		f.spaced = true
	case (c == '>' || c == '/') && !header && f.attrs > 0 && d.tooCostly(0):
		return d.memoryErr() // with this tag's attributes
	case c == '>':
		f.state = fsText
	case c == '/':
		f.state = fsSlash
	case !f.spaced:
		return d.frameErr(condNotWellFormed, "expected white space, '>' or '/>' in tag")
	case f.attrs >= d.maxAttrs(header):
		return d.frameErr(condPolicy, "too many attributes")
	default: // an attribute's name starts
		f.attrs++
		f.counts.attrs++
		f.state, f.nameStart, f.nameSlow = fsAttrName, f.off, false
		return nil
	}
	f.off++
	return nil
}

// attrByte reads the '=' after an attribute name and the quote that opens
// its value, with white space around the '='.
func (d *Decoder) attrByte(c byte) error {
	f := &d.fr
	switch {
	case isSpace(c):
	case f.state == fsEq && c == '=':
		f.state = fsValue
	case f.state == fsEq:
		return d.frameErr(condNotWellFormed, "expected '=' after attribute name")
	case c == '"' || c == '\'':
		f.state, f.quote = fsQuote, c
	default:
		return d.frameErr(condNotWellFormed, "attribute value must be quoted")
	}
	f.off++
	return nil
}

// tooCostly reports whether the stanza would take more memory than
// Limits.MaxMemory with extra more bytes (StanzaMemory).
func (d *Decoder) tooCostly(extra int) bool {
	c := &d.fr.counts
	return StanzaMemory(d.fr.off, c.elems, c.attrs, c.texts)+extra > d.lim.MaxMemory
}

// errMemory marks the memory limit's error: Decoder.firstError does not
// parse a stanza that is refused for what parsing it would cost.
type errMemory struct{ e *Error }

func (m errMemory) Error() string { return m.e.Error() }

func (d *Decoder) memoryErr() error {
	c := &d.fr.counts
	return errMemory{errAt(condPolicy, "stanza too big for memory: its tree would take more than "+
		strconv.Itoa(d.lim.MaxMemory)+" bytes ("+strconv.Itoa(c.elems)+" elements, "+strconv.Itoa(c.attrs)+
		" attributes so far)", d.consumed+int64(d.fr.off))}
}

func (d *Decoder) maxAttrs(header bool) int {
	if header {
		return DefaultMaxAttrs
	}
	return d.lim.MaxAttrs
}

// closed ends the innermost element (after "/>" or an end tag) and
// reports whether the construct is complete.
func (d *Decoder) closed(header bool) bool {
	f := &d.fr
	f.state = fsText
	if header || f.depth == 0 { // the stream header, or </stream:stream>
		return true
	}
	f.depth--
	f.open = f.open[:len(f.open)-1]
	return f.depth == 0
}

// tagEnded is called after the '>' of a start tag.
func (d *Decoder) tagEnded(b []byte, header bool) (bool, error) {
	f := &d.fr
	if header {
		return true, nil
	}
	if f.depth == 1 && d.maybeStreamTag(b) {
		// A second stream header would never end: let the parser decide
		// now whether this is one (it resolves the namespace).
		if err := d.firstError(nil); err != nil {
			return false, err
		}
	}
	return false, nil
}

// maybeStreamTag reports whether the root element's local name is
// "stream".
func (d *Decoder) maybeStreamTag(b []byte) bool {
	top := d.fr.open[0]
	name := b[top.off : top.off+top.n]
	local := name[bytes.IndexByte(name, ':')+1:]
	return string(local) == "stream"
}

// scanQuote looks for the end of an attribute value.
func (d *Decoder) scanQuote(b []byte) error {
	f := &d.fr
	rest := b[f.off:]
	k := bytes.IndexByte(rest, f.quote)
	if k >= 0 {
		rest = rest[:k+1]
	}
	if lt := bytes.IndexByte(rest, '<'); lt >= 0 {
		f.off += lt
		return d.frameErr(condNotWellFormed, "'<' in attribute value")
	}
	f.off += len(rest)
	if k >= 0 {
		f.state, f.spaced = fsTag, false
	}
	return nil
}

// scanBang accepts "<![CDATA[" and refuses every other "<!" (comments,
// DOCTYPE and other declarations).
func (d *Decoder) scanBang(b []byte) error {
	f := &d.fr
	for f.off < len(b) && f.matched < len(cdataOpen) {
		if b[f.off] != cdataOpen[f.matched] {
			if f.matched == 0 && b[f.off] == '-' {
				return d.frameErr(condRestricted, "comments are not allowed")
			}
			return d.frameErr(condRestricted, "DTDs and declarations are not allowed")
		}
		f.off++
		f.matched++
	}
	if f.matched < len(cdataOpen) {
		return nil
	}
	if f.depth == 0 {
		return d.frameErr(condNotWellFormed, "character data outside of stanzas")
	}
	f.counts.texts++
	f.state = fsCDATA
	return nil
}

// scanCDATA looks for the "]]>" that ends a CDATA section.
func (f *framer) scanCDATA(b []byte) {
	for {
		k := bytes.IndexByte(b[f.off:], '>')
		if k < 0 {
			f.off = len(b)
			return
		}
		f.off += k + 1
		if b[f.off-2] == ']' && b[f.off-3] == ']' {
			f.state = fsText
			return
		}
	}
}

// scanText looks for the next '<' in character data.
func (f *framer) scanText(b []byte) {
	k := bytes.IndexByte(b[f.off:], '<')
	if k != 0 && !f.inText {
		f.inText = true
		f.counts.texts++
	}
	if k < 0 {
		f.off = len(b)
		return
	}
	f.off += k + 1
	f.state, f.inText = fsLT, false
}

// scanPI looks for the "?>" that ends a processing instruction.
func (f *framer) scanPI(b []byte) bool {
	for {
		k := bytes.IndexByte(b[f.off:], '>')
		if k < 0 {
			f.off = len(b)
			return false
		}
		f.off += k + 1
		if f.off >= 4 && b[f.off-2] == '?' {
			return true
		}
	}
}
