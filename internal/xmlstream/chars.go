package xmlstream

import (
	"strings"
	"unicode/utf8"
)

// Byte classes for the ASCII fast paths.
const (
	bNameStart = 1 << iota // can start an XML name (the colon is handled apart: QNames)
	bName                  // can continue a name
	bSpace                 // XML white space: space, tab, CR, LF
	bText                  // character data byte that needs no attention
	bAttr                  // attribute value byte that needs no attention
)

var class = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		var k uint8
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
			k |= bNameStart | bName
		case c >= '0' && c <= '9', c == '-', c == '.':
			k |= bName
		case c == ' ', c == '\t', c == '\n', c == '\r':
			k |= bSpace
		}
		if c >= 0x20 && c < 0x80 && c != '<' && c != '&' {
			k |= bAttr
			if c != ']' {
				k |= bText
			}
		}
		if c == '\t' || c == '\n' {
			k |= bText
		}
		t[c] = k
	}
	return t
}()

func isSpace(c byte) bool { return class[c]&bSpace != 0 }

// isChar reports whether r is a character allowed in an XML 1.0 document
// (the Char production).
func isChar(r rune) bool {
	switch {
	case r >= 0x20 && r <= 0xD7FF:
		return true
	case r == '\t', r == '\n', r == '\r':
		return true
	case r >= 0xE000 && r <= 0xFFFD:
		return true
	}
	return r >= 0x10000 && r <= 0x10FFFF
}

// isNameStartRune reports whether r may start an XML name (NameStartChar
// without the colon).
func isNameStartRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 0 && class[r]&bNameStart != 0
	}
	switch {
	case r >= 0xC0 && r <= 0xD6, r >= 0xD8 && r <= 0xF6, r >= 0xF8 && r <= 0x2FF,
		r >= 0x370 && r <= 0x37D, r >= 0x37F && r <= 0x1FFF, r >= 0x200C && r <= 0x200D,
		r >= 0x2070 && r <= 0x218F, r >= 0x2C00 && r <= 0x2FEF, r >= 0x3001 && r <= 0xD7FF,
		r >= 0xF900 && r <= 0xFDCF, r >= 0xFDF0 && r <= 0xFFFD, r >= 0x10000 && r <= 0xEFFFF:
		return true
	}
	return false
}

// isNameRune reports whether r may continue an XML name (NameChar without
// the colon).
func isNameRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 0 && class[r]&bName != 0
	}
	return isNameStartRune(r) || r == 0xB7 ||
		r >= 0x300 && r <= 0x36F || r >= 0x203F && r <= 0x2040
}

// scanName finds the qualified name (QName: prefix:local or local) that
// starts at s[i]. It returns where the name ends and the index of its colon
// (-1 if it has none); ok is false if s[i:] does not start with a QName.
// A second colon ends the name (the caller then fails on it).
func scanName(s string, i int) (end, colon int, ok bool) {
	colon = -1
	j := i
	for j < len(s) {
		c := s[j]
		switch {
		case class[c]&bName != 0:
			j++
			continue
		case c == ':' && colon < 0 && j > i:
			colon = j
			j++
			continue
		case c < utf8.RuneSelf:
		default:
			r, n := utf8.DecodeRuneInString(s[j:])
			if n > 1 && isNameRune(r) {
				j += n
				continue
			}
		}
		break
	}
	ok = j > i && j != colon+1 && nameStartAt(s, i) && (colon < 0 || nameStartAt(s, colon+1))
	return j, colon, ok
}

// nameStartAt reports whether s[i] starts with a character that may begin
// a name (the loop in scanName only checked that it may be in one).
func nameStartAt(s string, i int) bool {
	if c := s[i]; c < utf8.RuneSelf {
		return class[c]&bNameStart != 0
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return isNameStartRune(r)
}

// reference parses the entity or character reference at s[i] ('&') and
// returns the character it stands for and its length in bytes. Only the
// five predefined entities are known: any other well-formed entity
// reference is restricted XML (RFC 6120 §11.1), never expanded.
func reference(s string, i int) (r rune, n int, cond, text string) {
	if i+1 < len(s) && s[i+1] == '#' {
		return charRef(s, i)
	}
	end, _, ok := scanName(s, i+1)
	if !ok || end >= len(s) || s[end] != ';' {
		return 0, 0, condNotWellFormed, "malformed entity reference"
	}
	switch s[i+1 : end] {
	case "lt":
		r = '<'
	case "gt":
		r = '>'
	case "amp":
		r = '&'
	case "quot":
		r = '"'
	case "apos":
		r = '\''
	default:
		return 0, 0, condRestricted, "entity reference &" + clip(s[i+1:end]) + "; is not allowed"
	}
	return r, end + 1 - i, "", ""
}

// refPrefix reports whether s, which starts with '&', could be the
// beginning of a reference cut short by the end of the input.
func refPrefix(s string) bool {
	rest := s[1:]
	if rest != "" && rest[0] == '#' {
		digits := "0123456789"
		if rest = rest[1:]; rest != "" && rest[0] == 'x' {
			rest, digits = rest[1:], "0123456789abcdefABCDEF"
		}
		return strings.TrimLeft(rest, digits) == ""
	}
	if rest == "" {
		return true
	}
	end, _, ok := scanName(rest, 0)
	return end == len(rest) && (ok || strings.HasSuffix(rest, ":")) ||
		!utf8.FullRuneInString(rest[end:]) && (ok || end == 0)
}

// charRef parses a character reference (&#NN; or &#xHH;) at s[i].
func charRef(s string, i int) (r rune, n int, cond, text string) {
	j, base := i+2, rune(10)
	if j < len(s) && s[j] == 'x' {
		j, base = j+1, 16
	}
	start := j
	for ; j < len(s); j++ {
		d := digit(s[j], base)
		if d < 0 {
			break
		}
		if r <= utf8.MaxRune { // stop growing: the value is already invalid
			r = r*base + d
		}
	}
	if j == start || j >= len(s) || s[j] != ';' {
		return 0, 0, condNotWellFormed, "malformed character reference"
	}
	if !isChar(r) {
		return 0, 0, condNotWellFormed, "character reference to a character not allowed in XML"
	}
	return r, j + 1 - i, "", ""
}

func digit(c byte, base rune) rune {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0')
	case base == 16 && c >= 'a' && c <= 'f':
		return rune(c-'a') + 10
	case base == 16 && c >= 'A' && c <= 'F':
		return rune(c-'A') + 10
	}
	return -1
}

// writeText writes character data raw, already checked by the parser,
// with references resolved and line ends normalised (CR LF and lone CR
// become LF, XML 1.0 §2.11).
func writeText(b *strings.Builder, raw string) {
	for {
		k := strings.IndexAny(raw, "&\r")
		if k < 0 {
			b.WriteString(raw)
			return
		}
		b.WriteString(raw[:k])
		if raw[k] == '&' {
			r, n, _, _ := reference(raw, k)
			b.WriteRune(r)
			raw = raw[k+n:]
			continue
		}
		b.WriteByte('\n')
		raw = raw[k+1:]
		if raw != "" && raw[0] == '\n' {
			raw = raw[1:]
		}
	}
}

// writeCDATA writes the content of a CDATA section with line ends
// normalised; it has no references.
func writeCDATA(b *strings.Builder, raw string) {
	for {
		k := strings.IndexByte(raw, '\r')
		if k < 0 {
			b.WriteString(raw)
			return
		}
		b.WriteString(raw[:k])
		b.WriteByte('\n')
		raw = raw[k+1:]
		if raw != "" && raw[0] == '\n' {
			raw = raw[1:]
		}
	}
}

// writeAttr writes an attribute value, already checked by the parser,
// normalised per XML 1.0 §3.3.3: line ends are normalised first, then each
// white space character becomes a space; characters written as references
// are kept as they are.
func writeAttr(b *strings.Builder, raw string) {
	for {
		k := strings.IndexAny(raw, "&\r\n\t")
		if k < 0 {
			b.WriteString(raw)
			return
		}
		b.WriteString(raw[:k])
		switch raw[k] {
		case '&':
			r, n, _, _ := reference(raw, k)
			b.WriteRune(r)
			raw = raw[k+n:]
			continue
		case '\r':
			if k+1 < len(raw) && raw[k+1] == '\n' {
				k++
			}
		}
		b.WriteByte(' ')
		raw = raw[k+1:]
	}
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
