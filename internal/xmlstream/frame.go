package xmlstream

import (
	"bytes"
)

// The framer finds where the next top-level construct (the stream header,
// the XML declaration, a stanza, or the closing </stream:stream>) ends, as
// bytes arrive, without interpreting more than it must: tags, quoted
// attribute values, character data and CDATA sections. It keeps its state
// between reads, so each byte is looked at once however the input is
// chunked. It refuses early what can never become valid (comments, DTDs,
// processing instructions, '<' in a tag, too deep nesting) so that hostile
// input is not buffered up to the size limit first. The parser then checks
// everything strictly.

// Framer states.
const (
	fsIdle     = iota // no construct started: skipping white space
	fsLT              // after '<'
	fsStartTag        // inside a start tag
	fsQuote           // inside a quoted attribute value
	fsEndTag          // inside an end tag
	fsBang            // after "<!": only "<![CDATA[" is allowed
	fsCDATA           // inside a CDATA section
	fsText            // character data
	fsPI              // inside "<?...?>", before the stream header
)

const cdataOpen = "[CDATA[" // after "<!"

type framer struct {
	state    uint8
	quote    byte // the quote that ends the current attribute value
	matched  int  // bytes of cdataOpen seen in fsBang
	off      int  // bytes of the construct scanned, counted from Decoder.r
	tagStart int  // offset of the '<' of the current tag
	depth    int  // open elements in the construct
	inText   bool // a run of character data was counted in texts

	// What the construct holds, so the parser can allocate it at once.
	counts counts
}

// counts are upper bounds of what a stanza holds.
type counts struct {
	elems int // start tags
	attrs int // '=' in start tags (attributes and namespace declarations)
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
		switch f.state {
		case fsLT:
			err = d.scanLT(b, header)
		case fsStartTag:
			done, err = d.scanStartTag(b, header)
		case fsQuote:
			err = d.scanQuote(b)
		case fsEndTag:
			done = f.scanEndTag(b)
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
		f.state = fsEndTag
	case c == '?' && header && f.depth == 0:
		f.state = fsPI
	case c == '?':
		return d.frameErr(condRestricted, "processing instructions are not allowed")
	case c == '!' && header:
		return d.frameErr(condRestricted, "DTDs and comments are not allowed")
	case c == '!':
		f.state, f.matched = fsBang, 0
	case class[c]&bNameStart != 0 || c >= 0x80:
		f.depth++
		f.counts.elems++
		if !header && f.depth > d.lim.MaxDepth {
			return d.frameErr(condPolicy, "elements nested too deep")
		}
		f.state = fsStartTag
	case c == 0 && header:
		return d.frameErr(condEncoding, "the stream is not UTF-8")
	default:
		return d.frameErr(condNotWellFormed, "invalid character after '<'")
	}
	f.off++
	return nil
}

// scanStartTag looks for the end of a start tag, skipping quoted values.
func (d *Decoder) scanStartTag(b []byte, header bool) (bool, error) {
	f := &d.fr
	for f.off < len(b) {
		c := b[f.off]
		f.off++
		switch c {
		case '"', '\'':
			f.quote, f.state = c, fsQuote
			return false, nil
		case '=':
			f.counts.attrs++
		case '<':
			return false, d.frameErr(condNotWellFormed, "'<' inside a tag")
		case '>':
			return d.tagEnded(b, header)
		}
	}
	return false, nil
}

// tagEnded is called after the '>' of a start tag.
func (d *Decoder) tagEnded(b []byte, header bool) (bool, error) {
	f := &d.fr
	f.state = fsText
	if b[f.off-2] == '/' {
		f.depth--
		return f.depth == 0, nil
	}
	if f.depth != 1 {
		return false, nil
	}
	if header {
		return true, nil
	}
	if d.isStreamTag(b[f.tagStart+1 : f.off]) {
		return false, d.frameErr(condNotWellFormed, "stream header inside the stream")
	}
	return false, nil
}

// isStreamTag reports whether the tag (after its '<') has the stream
// element's qualified name: a second stream header, refused at once since
// it would never end. (The parser checks the resolved name too.)
func (d *Decoder) isStreamTag(tag []byte) bool {
	n := len(d.streamName)
	if len(tag) <= n || string(tag[:n]) != d.streamName {
		return false
	}
	c := tag[n]
	return isSpace(c) || c == '/' || c == '>'
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
		f.state = fsStartTag
	}
	return nil
}

// scanEndTag looks for the end of an end tag. At depth zero the construct
// is complete: a stanza, or the stream's own end tag.
func (f *framer) scanEndTag(b []byte) bool {
	k := bytes.IndexByte(b[f.off:], '>')
	if k < 0 {
		f.off = len(b)
		return false
	}
	f.off += k + 1
	f.depth--
	f.state = fsText
	return f.depth <= 0
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
	f.tagStart = f.off + k
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
