package stream

import "github.com/parleyim/parley/internal/stanza"

// Stream error conditions (RFC 6120 §4.9.3). They are plain strings so
// that interfaces taking a condition (module.Conn.Close) stay simple.
const (
	BadFormat              = "bad-format"
	BadNamespacePrefix     = "bad-namespace-prefix"
	Conflict               = "conflict"
	ConnectionTimeout      = "connection-timeout"
	HostGone               = "host-gone"
	HostUnknown            = "host-unknown"
	ImproperAddressing     = "improper-addressing"
	InternalServerError    = "internal-server-error"
	InvalidFrom            = "invalid-from"
	InvalidNamespace       = "invalid-namespace"
	InvalidXML             = "invalid-xml"
	NotAuthorized          = "not-authorized"
	NotWellFormed          = "not-well-formed"
	PolicyViolation        = "policy-violation"
	RemoteConnectionFailed = "remote-connection-failed"
	Reset                  = "reset"
	ResourceConstraint     = "resource-constraint"
	RestrictedXML          = "restricted-xml"
	SeeOtherHost           = "see-other-host"
	SystemShutdown         = "system-shutdown"
	UndefinedCondition     = "undefined-condition"
	UnsupportedEncoding    = "unsupported-encoding"
	UnsupportedFeature     = "unsupported-feature"
	UnsupportedStanzaType  = "unsupported-stanza-type"
	UnsupportedVersion     = "unsupported-version"
)

// Error is a stream error: the stream ends with it (RFC 6120 §4.9). It is
// the one type for every source: the tokenizer's grammar and limits, the
// checks on a stream header, negotiation, and feature modules (a nonza
// handler returns one to end the stream).
type Error struct {
	Condition string // one of the constants above
	Text      string // optional, human-readable, in English
	// App is an optional application-specific condition (RFC 6120
	// §4.9.4), e.g. XEP-0198's <handled-count-too-high/>.
	App *stanza.Element
}

// New returns a stream error with condition cond and optional text.
func New(cond, text string) *Error { return &Error{Condition: cond, Text: text} }

func (e *Error) Error() string {
	if e.Text == "" {
		return "stream error: " + e.Condition
	}
	return "stream error: " + e.Condition + ": " + e.Text
}

// AppendXML appends the <stream:error/> element (§4.9.2) to b. The stream
// prefix is the one our header declares.
func (e *Error) AppendXML(b []byte) []byte {
	b = append(b, "<stream:error><"...)
	b = append(b, e.Condition...)
	b = append(b, " xmlns='"+NSStreams+"'/>"...)
	if e.Text != "" {
		b = append(b, "<text xmlns='"+NSStreams+"' xml:lang='en'>"...)
		b = stanza.AppendEscapedText(b, e.Text)
		b = append(b, "</text>"...)
	}
	if e.App != nil {
		b = e.App.AppendXML(b, "")
	}
	return append(b, "</stream:error>"...)
}
