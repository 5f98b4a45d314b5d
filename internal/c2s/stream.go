package c2s

import (
	"crypto/rand"
	"encoding/base64"
	"strings"

	"github.com/parleyim/parley/internal/stanza"
)

// Namespaces of the stream layer (RFC 6120).
const (
	NSStream  = "http://etherx.jabber.org/streams"
	NSStreams = "urn:ietf:params:xml:ns:xmpp-streams"
	NSTLS     = "urn:ietf:params:xml:ns:xmpp-tls"
	NSSASL    = "urn:ietf:params:xml:ns:xmpp-sasl"
	NSBind    = "urn:ietf:params:xml:ns:xmpp-bind"
	NSSession = "urn:ietf:params:xml:ns:xmpp-session"
	NSSASLCB  = "urn:xmpp:sasl-cb:0"
	NSPing    = "urn:xmpp:ping"
)

// StreamError is a stream-level error (RFC 6120 §4.9): the stream is
// closed with it.
type StreamError struct {
	Condition string
	Text      string
}

func (e *StreamError) Error() string {
	if e.Text == "" {
		return "stream error: " + e.Condition
	}
	return "stream error: " + e.Condition + ": " + e.Text
}

func streamErr(cond, text string) *StreamError { return &StreamError{Condition: cond, Text: text} }

func newStreamID() string {
	var b [12]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// streamHeader is the response header. from is our domain, to the client's
// address when it gave a valid one.
func streamHeader(id, from, to string) string {
	var b strings.Builder
	b.WriteString("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'")
	if id != "" {
		b.WriteString(" id='" + id + "'")
	}
	if from != "" {
		b.WriteString(" from='")
		b.Write(stanza.AppendEscapedAttr(nil, from))
		b.WriteString("'")
	}
	if to != "" {
		b.WriteString(" to='")
		b.Write(stanza.AppendEscapedAttr(nil, to))
		b.WriteString("'")
	}
	b.WriteString(" version='1.0' xml:lang='en'>")
	return b.String()
}

func streamErrorXML(cond, text string) string {
	var b strings.Builder
	b.WriteString("<stream:error><" + cond + " xmlns='" + NSStreams + "'/>")
	if text != "" {
		b.WriteString("<text xmlns='" + NSStreams + "' xml:lang='en'>")
		b.Write(stanza.AppendEscapedText(nil, text))
		b.WriteString("</text>")
	}
	b.WriteString("</stream:error>")
	return b.String()
}

// featuresXML wraps feature elements in <stream:features/>.
func featuresXML(features []*stanza.Element) []byte {
	b := []byte("<stream:features>")
	for _, f := range features {
		b = f.AppendXML(b, stanza.NSClient)
	}
	return append(b, "</stream:features>"...)
}
