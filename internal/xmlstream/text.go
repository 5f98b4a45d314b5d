package xmlstream

import (
	"strings"
	"unicode/utf8"

	"github.com/parleyim/parley/internal/stanza"
)

// Character data: text between tags and CDATA sections. Runs of it that
// follow each other (text, CDATA, text) become one text node. Text is kept
// as a substring of the stanza unless references or line ends must be
// decoded.

// charData reads character data up to the next '<'.
func (p *parser) charData() error {
	s, start, decode := p.s, p.i, false
	for p.i < len(s) {
		c := s[p.i]
		switch {
		case class[c]&bText != 0:
			p.i++
		case c == '<':
			p.addText(s[start:p.i], decode, false)
			return nil
		case c == '&':
			decode = true
			if err := p.skipRef(); err != nil {
				return err
			}
		case c == '\r':
			decode = true
			p.i++
		case c == ']':
			if strings.HasPrefix(s[p.i:], "]]>") {
				return p.fail(condNotWellFormed, "']]>' in character data")
			}
			p.i++
		default:
			if err := p.skipRune(); err != nil {
				return err
			}
		}
	}
	return p.short("unexpected end of element")
}

// cdata reads a CDATA section, which is character data without markup.
func (p *parser) cdata() error {
	p.i += len("<![CDATA[")
	start := p.i
	k := strings.Index(p.s[start:], "]]>")
	if k < 0 && !p.partial {
		return p.fail(condNotWellFormed, "unterminated CDATA section")
	}
	end, decode := start+k, false
	if k < 0 {
		end = len(p.s) // check what there is, then report it incomplete
	}
	for p.i < end {
		c := p.s[p.i]
		switch {
		case c >= 0x20 && c < utf8.RuneSelf, c == '\t', c == '\n':
			p.i++
		case c == '\r':
			decode = true
			p.i++
		default:
			if err := p.skipRune(); err != nil {
				return err
			}
		}
	}
	if k < 0 {
		return errTruncated
	}
	p.addText(p.s[start:end], decode, true)
	p.i = end + len("]]>")
	return nil
}

// addText adds a run of character data (raw, as written) to the pending
// text of the innermost element. Adjacent runs end up in one text node.
func (p *parser) addText(raw string, decode, cdata bool) {
	if !p.hasText && !decode {
		p.text, p.hasText = raw, true
		return
	}
	if !p.inTB {
		p.tb.Grow(len(p.text) + len(raw))
		p.tb.WriteString(p.text)
		p.inTB = true
	}
	p.hasText = true
	switch {
	case !decode:
		p.tb.WriteString(raw)
	case cdata:
		writeCDATA(&p.tb, raw)
	default:
		writeText(&p.tb, raw)
	}
}

// flushText turns the pending text into a child node.
func (p *parser) flushText() {
	if !p.hasText {
		return
	}
	t := p.text
	if p.inTB {
		t = p.tb.String()
		p.tb = strings.Builder{}
	}
	p.text, p.hasText, p.inTB = "", false, false
	if t != "" && len(p.open) > 0 {
		p.kids = append(p.kids, stanza.Node{Text: t})
	}
}
