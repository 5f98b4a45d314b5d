package stanza

import "unicode/utf8"

// AppendXML appends the serialisation of e to b. parentSpace is the default
// namespace in scope where e is written (NSClient inside a client stream):
// an xmlns declaration is written only where the namespace changes.
// Prefixed attributes other than xml:* get a generated prefix declaration.
func (e *Element) AppendXML(b []byte, parentSpace string) []byte {
	b = append(b, '<')
	b = append(b, e.Local...)
	if e.Space != parentSpace {
		b = append(b, ` xmlns="`...)
		b = appendEscaped(b, e.Space, true)
		b = append(b, '"')
	}
	np := 0
	for i := range e.Attrs {
		a := &e.Attrs[i]
		b = append(b, ' ')
		switch a.Space {
		case "":
		case NSXML:
			b = append(b, "xml:"...)
		default:
			np++
			p := "a" + itoa(np)
			b = append(b, "xmlns:"...)
			b = append(b, p...)
			b = append(b, `="`...)
			b = appendEscaped(b, a.Space, true)
			b = append(b, `" `...)
			b = append(b, p...)
			b = append(b, ':')
		}
		b = append(b, a.Local...)
		b = append(b, `="`...)
		b = appendEscaped(b, a.Value, true)
		b = append(b, '"')
	}
	if len(e.Children) == 0 {
		return append(b, "/>"...)
	}
	b = append(b, '>')
	for _, n := range e.Children {
		if n.El != nil {
			b = n.El.AppendXML(b, e.Space)
		} else {
			b = appendEscaped(b, n.Text, false)
		}
	}
	b = append(b, "</"...)
	b = append(b, e.Local...)
	return append(b, '>')
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// appendEscaped escapes the five XML specials (and, in attributes, the
// whitespace characters that attribute normalisation would eat). Invalid
// UTF-8 and characters not allowed in XML are replaced by U+FFFD, so the
// output is always well-formed.
func appendEscaped(b []byte, s string, attr bool) []byte {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			var esc string
			switch c {
			case '<':
				esc = "&lt;"
			case '>':
				esc = "&gt;"
			case '&':
				esc = "&amp;"
			case '"':
				if attr {
					esc = "&quot;"
				}
			case '\'':
				if attr {
					esc = "&apos;"
				}
			case '\t':
				if attr {
					esc = "&#9;"
				}
			case '\n':
				if attr {
					esc = "&#10;"
				}
			case '\r':
				esc = "&#13;"
			default:
				if c < 0x20 {
					esc = "\uFFFD"
				}
			}
			if esc != "" {
				b = append(b, s[last:i]...)
				b = append(b, esc...)
				last = i + 1
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r == 0xFFFE || r == 0xFFFF {
			b = append(b, s[last:i]...)
			b = append(b, "\uFFFD"...)
			last = i + size
		}
		i += size
	}
	return append(b, s[last:]...)
}

// AppendEscapedText appends s escaped for character data.
func AppendEscapedText(b []byte, s string) []byte { return appendEscaped(b, s, false) }

// AppendEscapedAttr appends s escaped for an attribute value in double quotes.
func AppendEscapedAttr(b []byte, s string) []byte { return appendEscaped(b, s, true) }

// AppendAttr appends " name='value'" with value escaped, or nothing when
// value is empty: the optional attributes of a hand-written opening tag
// (stream headers, WebSocket <open/>, BOSH <body/>).
func AppendAttr(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	b = append(b, ' ')
	b = append(b, name...)
	b = append(b, "='"...)
	b = appendEscaped(b, value, true)
	return append(b, '\'')
}
