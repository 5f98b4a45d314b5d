// Package xmlstream turns the bytes of an XMPP stream into elements: it
// reads the opening <stream:stream> header (RFC 6120 §4.2) and then one
// complete top-level element (stanza or stream-level element such as
// <stream:features/> or <auth/>) at a time, as a stanza.Element tree with
// namespaces resolved.
//
// It is a strict, streaming tokenizer written for hostile input:
//
//   - It enforces the XML restrictions of RFC 6120 §11.1: no DTDs, no
//     comments, no processing instructions (other than the XML
//     declaration) and no entity references other than the five
//     predefined ones and character references. Nothing is ever expanded.
//   - It checks well-formedness (UTF-8, XML characters, names, quoting,
//     matching end tags, unique attributes) and namespace well-formedness.
//   - It bounds what one stream may cost with Limits: bytes per top-level
//     element (checked while reading, so an endless stanza is refused
//     after about MaxElementBytes bytes), nesting depth and attributes per
//     element. Parsing uses no recursion.
//   - Violations are reported as *Error carrying the RFC 6120 §4.9.3 stream
//     error condition the caller must close the stream with.
//
// How it works: a cheap framing pass finds where the next top-level element
// ends while the bytes arrive (frame.go); the complete element is then
// copied into one string and parsed strictly into a tree whose names and
// plain text are substrings of that string (parse.go). A typical stanza
// costs four allocations.
//
// It owns nothing of XMPP's meaning: it does not check the stream version,
// 'to' or 'from', does not know what a stanza is, and does not write
// anything (serialisation is stanza.Element.AppendXML; the c2s package
// writes headers and stream errors).
package xmlstream
