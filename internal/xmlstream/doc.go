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
//     after about MaxElementBytes bytes), the memory its tree would take
//     (MaxMemory: "<a/>" is 4 bytes of input but about 100 of tree),
//     nesting depth and attributes per element. Parsing uses no recursion.
//   - Violations are reported as *Error carrying the RFC 6120 §4.9.3 stream
//     error condition the caller must close the stream with.
//
// Conditions reported (Error.Condition):
//
//   - restricted-xml: comments, processing instructions (other than the XML
//     declaration before the header), DOCTYPE and other "<!" declarations,
//     entity references other than &lt; &gt; &amp; &quot; &apos;.
//   - not-well-formed: everything else that is not well-formed XML 1.0 with
//     namespaces, including invalid UTF-8, characters outside the XML Char
//     range, text other than white space between stanzas, a second stream
//     header inside the stream, a self-closing stream header, a UTF-8 byte
//     order mark (RFC 6120 §11.6 makes U+FEFF a character, so it is text
//     before the header), and malformed XML declarations, including one
//     declaring another XML version than 1.0 (XMPP is XML 1.0, RFC 6120
//     §11.8; XML 1.1's other characters and line ends are not handled).
//   - bad-namespace-prefix: an undeclared prefix on an element or an
//     attribute, and elements using the xml prefix.
//   - invalid-namespace: the stream element is not in NSStream.
//   - invalid-xml: the stream element, in NSStream, is not named "stream".
//   - unsupported-encoding: an XML declaration naming another encoding than
//     UTF-8, or a UTF-16 stream.
//   - policy-violation: a Limits bound, a name over 1 KiB, more than 256
//     namespace prefixes in scope, or a stream header over 4 KiB.
//
// Leniency, on purpose: white space before the XML declaration is
// skipped.
//
// How it works: a framing pass finds where the next top-level element ends
// while the bytes arrive (frame.go); the complete element is then copied
// into one string and parsed strictly into a tree whose names and plain
// text are substrings of that string (parse.go). A typical stanza costs
// four allocations. The framer applies the parser's grammar to everything
// that decides where an element ends (tags, names, end tags matching the
// open elements, CDATA, depth), so a structural error is reported as soon
// as its bytes arrive and before any later stanza, and the error reported
// is always the first one in stream order: when the framer, the size limit
// or the end of input stops a stanza, the parser checks what was read of
// it first.
//
// It owns nothing of XMPP's meaning: it does not check the stream version,
// 'to' or 'from', does not know what a stanza is, and does not write
// anything (serialisation is stanza.Element.AppendXML; internal/stream
// builds headers and stream errors).
package xmlstream
