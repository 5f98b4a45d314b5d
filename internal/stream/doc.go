// Package stream holds the XMPP stream layer as protocol values (RFC 6120
// §4): the opening header a server writes and the checks on the one a peer
// sent, the <stream:features/> element, and the one stream error type
// (Error) with the §4.9.3 conditions as constants. Every package that ends
// a stream with an error (the XML tokenizer, c2s, feature modules through
// their nonza handlers, later s2s) uses this type, so a stream error means
// the same thing wherever it is raised.
//
// It reads and writes nothing: carrying the bytes is a transport's job
// (TCP today, WebSocket and BOSH later, each framing header, error and
// close in its own way), and the state of a session (its address,
// presence, output queue) belongs to the session (internal/c2s).
package stream

// Namespaces of the stream layer.
const (
	NSStream    = "http://etherx.jabber.org/streams"    // the stream element (RFC 6120 §4.8.1)
	NSStreams   = "urn:ietf:params:xml:ns:xmpp-streams" // stream error conditions (§4.9.3)
	NSFraming   = "urn:ietf:params:xml:ns:xmpp-framing" // <open/> and <close/> over WebSocket (RFC 7395)
	NSClient    = "jabber:client"                       // the content namespace of client streams
	NSServer    = "jabber:server"                       // the content namespace of server-to-server streams
	NSDialback  = "jabber:server:dialback"              // Server Dialback elements, prefix db (XEP-0220)
	NSComponent = "jabber:component:accept"             // the content namespace of component streams (XEP-0114)
)
