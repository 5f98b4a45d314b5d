package c2s

// Namespaces of the client stream's negotiation (RFC 6120, XEP-0440) and
// of the server's pings. The stream element's own namespaces and the stream
// errors are in internal/stream.
const (
	NSTLS     = "urn:ietf:params:xml:ns:xmpp-tls"
	NSSASL    = "urn:ietf:params:xml:ns:xmpp-sasl"
	NSBind    = "urn:ietf:params:xml:ns:xmpp-bind"
	NSSession = "urn:ietf:params:xml:ns:xmpp-session"
	NSSASLCB  = "urn:xmpp:sasl-cb:0"
	NSPing    = "urn:xmpp:ping"
)
