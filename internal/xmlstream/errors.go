package xmlstream

import (
	"errors"
	"strconv"

	"github.com/parleyim/parley/internal/stream"
)

// NSStream is the namespace of the stream element (RFC 6120 §4.8.1).
const NSStream = stream.NSStream

// Stream error conditions (RFC 6120 §4.9.3) reported in Error.Condition.
const (
	condNotWellFormed = stream.NotWellFormed
	condRestricted    = stream.RestrictedXML
	condPolicy        = stream.PolicyViolation
	condInvalidNS     = stream.InvalidNamespace
	condBadPrefix     = stream.BadNamespacePrefix
	condEncoding      = stream.UnsupportedEncoding
	condInvalidXML    = stream.InvalidXML
)

// Error is a protocol error found in the byte stream: the stream error
// (one type for every layer, stream.Error) the connection must be closed
// with. Its text says what was wrong and at which stream offset.
type Error = stream.Error

// ErrStreamClosed is returned by Next when the peer closed its stream with
// </stream:stream>.
var ErrStreamClosed = errors.New("xmlstream: stream closed by peer")

// errAt builds an *Error whose text ends with the stream offset where the
// problem was found.
func errAt(cond, text string, offset int64) *Error {
	return &Error{Condition: cond, Text: text + " at offset " + strconv.FormatInt(offset, 10)}
}
