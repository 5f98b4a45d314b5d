package xmlstream

import (
	"errors"
	"strconv"
)

// NSStream is the namespace of the stream element (RFC 6120 §4.8.1).
const NSStream = "http://etherx.jabber.org/streams"

// Stream error conditions (RFC 6120 §4.9.3) reported in Error.Condition.
const (
	condNotWellFormed = "not-well-formed"
	condRestricted    = "restricted-xml"
	condPolicy        = "policy-violation"
	condInvalidNS     = "invalid-namespace"
	condBadPrefix     = "bad-namespace-prefix"
	condEncoding      = "unsupported-encoding"
	condInvalidXML    = "invalid-xml"
)

// Error is a protocol error found in the byte stream. Condition is the
// RFC 6120 §4.9.3 stream error condition the connection must be closed
// with; Text says what was wrong and at which stream offset.
type Error struct {
	Condition string
	Text      string
}

func (e *Error) Error() string {
	return "xmlstream: " + e.Condition + ": " + e.Text
}

// ErrStreamClosed is returned by Next when the peer closed its stream with
// </stream:stream>.
var ErrStreamClosed = errors.New("xmlstream: stream closed by peer")

// errAt builds an *Error whose text ends with the stream offset where the
// problem was found.
func errAt(cond, text string, offset int64) *Error {
	return &Error{Condition: cond, Text: text + " at offset " + strconv.FormatInt(offset, 10)}
}
