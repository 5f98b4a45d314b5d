package config

import (
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// BurntSushi/toml knows where each key is but does not export it
// (MetaData has no position accessor), so keyLines finds them again by
// scanning the text. It is only run on text the TOML parser accepted, but it
// must not panic or loop on anything: it is a best-effort index, and a key it
// cannot place just gets no line number.

// keyLines maps every key path defined in src (table headers, keys, dotted
// key prefixes, keys of inline tables) to the 1-based line of its first
// definition. Paths are formatted with toml.Key.String.
func keyLines(src string) map[string]int {
	s := &keyScanner{src: src, line: 1, out: make(map[string]int)}
	s.document()
	return s.out
}

// lineOf returns the line of key in idx, or of its nearest defined parent
// (a key inside an inline table or an implicit table), or 0.
func lineOf(idx map[string]int, key toml.Key) int {
	for n := len(key); n > 0; n-- {
		if l, ok := idx[key[:n].String()]; ok {
			return l
		}
	}
	return 0
}

type keyScanner struct {
	src  string
	i    int
	line int
	out  map[string]int
}

func (s *keyScanner) eof() bool { return s.i >= len(s.src) }

func (s *keyScanner) peek() byte {
	if s.eof() {
		return 0
	}
	return s.src[s.i]
}

// advance moves one byte, counting lines.
func (s *keyScanner) advance() {
	if s.eof() {
		return
	}
	if s.src[s.i] == '\n' {
		s.line++
	}
	s.i++
}

func (s *keyScanner) record(path []string, line int) {
	for n := 1; n <= len(path); n++ {
		k := toml.Key(path[:n]).String()
		if _, ok := s.out[k]; !ok {
			s.out[k] = line
		}
	}
}

// skipBlank skips spaces and tabs.
func (s *keyScanner) skipBlank() {
	for !s.eof() && (s.src[s.i] == ' ' || s.src[s.i] == '\t') {
		s.i++
	}
}

// skipToEOL skips the rest of the line (including a comment), not the
// newline itself.
func (s *keyScanner) skipToEOL() {
	for !s.eof() && s.src[s.i] != '\n' {
		s.i++
	}
}

// skipWS skips whitespace, newlines and comments (inside arrays and
// inline tables).
func (s *keyScanner) skipWS() {
	for !s.eof() {
		switch s.src[s.i] {
		case ' ', '\t', '\r', '\n':
			s.advance()
		case '#':
			s.skipToEOL()
		default:
			return
		}
	}
}

func (s *keyScanner) document() {
	var table []string
	for !s.eof() {
		s.skipBlank()
		if s.eof() {
			return
		}
		switch c := s.src[s.i]; c {
		case '\n', '\r':
			s.advance()
		case '#':
			s.skipToEOL()
		case '[':
			line := s.line
			s.i++
			if s.peek() == '[' {
				s.i++
			}
			table = s.key()
			s.record(table, line)
			s.skipToEOL()
		default:
			s.keyValue(table)
			s.skipToEOL()
		}
	}
}

// keyValue reads key [= value] below parent, recording the key's line; it
// always makes progress (garbage is skipped a byte at a time).
func (s *keyScanner) keyValue(parent []string) {
	start, line := s.i, s.line
	k := s.key()
	path := append(append([]string(nil), parent...), k...)
	if len(k) > 0 {
		s.record(path, line)
	}
	s.skipBlank()
	if s.peek() == '=' {
		s.i++
		s.value(path)
	}
	if s.i == start {
		s.i++ // garbage: make progress
	}
}

// items reads the comma-separated items of an array or inline table, from
// its opening bracket to end (or the end of the input), each with item.
func (s *keyScanner) items(end byte, item func()) {
	s.i++
	for {
		s.skipWS()
		switch s.peek() {
		case 0:
			return
		case end:
			s.i++
			return
		case ',':
			s.i++
			continue
		}
		item()
	}
}

func isBare(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// key reads a dotted key: simple keys separated by dots, with blanks around
// the dots.
func (s *keyScanner) key() []string {
	var parts []string
	for {
		s.skipBlank()
		part, ok := s.simpleKey()
		if !ok {
			return parts
		}
		parts = append(parts, part)
		s.skipBlank()
		if s.peek() != '.' {
			return parts
		}
		s.i++
	}
}

func (s *keyScanner) simpleKey() (string, bool) {
	switch c := s.peek(); {
	case c == '"':
		raw := s.basicString()
		return unescapeBasic(raw), true
	case c == '\'':
		return s.literalString(), true
	case isBare(c):
		start := s.i
		for !s.eof() && isBare(s.src[s.i]) {
			s.i++
		}
		return s.src[start:s.i], true
	}
	return "", false
}

// basicString reads a one-line "..." string and returns its raw body.
func (s *keyScanner) basicString() string {
	s.i++ // opening quote
	start := s.i
	for !s.eof() {
		switch s.src[s.i] {
		case '\\':
			s.i += 2
			continue
		case '"':
			body := s.src[start:s.i]
			s.i++
			return body
		case '\n':
			return s.src[start:s.i]
		}
		s.i++
	}
	if start > len(s.src) {
		start = len(s.src)
	}
	s.i = len(s.src)
	return s.src[start:]
}

// literalString reads a one-line '...' string and returns its body.
func (s *keyScanner) literalString() string {
	s.i++
	start := s.i
	for !s.eof() {
		switch s.src[s.i] {
		case '\'':
			body := s.src[start:s.i]
			s.i++
			return body
		case '\n':
			return s.src[start:s.i]
		}
		s.i++
	}
	return s.src[start:]
}

// multiline skips a multi-line string (triple quotes, basic or literal);
// the opening delimiter is at s.i.
func (s *keyScanner) multiline(delim string) {
	s.i += 3
	for !s.eof() {
		if delim == `"""` && s.src[s.i] == '\\' {
			s.advance()
			s.advance()
			continue
		}
		if strings.HasPrefix(s.src[s.i:], delim) {
			s.i += 3
			// Up to two more quotes may belong to the content.
			for n := 0; n < 2 && s.peek() == delim[0]; n++ {
				s.i++
			}
			return
		}
		s.advance()
	}
}

// value skips a value, recording the keys of inline tables under path.
func (s *keyScanner) value(path []string) {
	s.skipBlank()
	switch c := s.peek(); c {
	case '"':
		if strings.HasPrefix(s.src[s.i:], `"""`) {
			s.multiline(`"""`)
		} else {
			s.basicString()
		}
	case '\'':
		if strings.HasPrefix(s.src[s.i:], `'''`) {
			s.multiline(`'''`)
		} else {
			s.literalString()
		}
	case '[':
		s.items(']', func() {
			start := s.i
			s.value(path)
			if s.i == start {
				s.i++
			}
		})
	case '{':
		s.items('}', func() { s.keyValue(path) })
	default:
		for !s.eof() && !strings.ContainsRune(" \t\r\n,]}#", rune(s.src[s.i])) {
			s.i++
		}
	}
}

// unescapeBasic decodes the escapes of a TOML basic string well enough to
// name a key; on anything odd it returns the raw text.
func unescapeBasic(raw string) string {
	if !strings.Contains(raw, `\`) {
		return raw
	}
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' || i+1 >= len(raw) {
			b.WriteByte(c)
			continue
		}
		i++
		switch raw[i] {
		case 'b':
			b.WriteByte('\b')
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'f':
			b.WriteByte('\f')
		case 'r':
			b.WriteByte('\r')
		case 'e':
			b.WriteByte(0x1b)
		case '"', '\\':
			b.WriteByte(raw[i])
		case 'x', 'u', 'U':
			n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[raw[i]]
			if i+1+n > len(raw) {
				return raw
			}
			v, err := strconv.ParseUint(raw[i+1:i+1+n], 16, 32)
			if err != nil {
				return raw
			}
			b.WriteRune(rune(v))
			i += n
		default:
			return raw
		}
	}
	return b.String()
}
