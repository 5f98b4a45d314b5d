// Package s2s is federation: server-to-server streams (RFC 6120 with the
// jabber:server content namespace) and external components (XEP-0114).
//
// Outbound, Pool implements router.Remote: one stream per pair of local
// and remote domain, opened on the first stanza and reused for every
// later one, with the stanzas queued (bounded) while it connects. The
// remote domain is found through the static table s2s.routes, else DNS SRV
// records (_xmpps-server._tcp for direct TLS, XEP-0368; _xmpp-server._tcp
// for STARTTLS, RFC 6120 §3.2), else the domain on port 5269. The stream
// authenticates with SASL EXTERNAL when the peer's certificate verifies
// (RFC 6120 §6.3.4 and §13.7.1.2, names checked per RFC 6125) and with
// Server Dialback (XEP-0220, keys per XEP-0185) otherwise. A stream that
// cannot be set up bounces its stanzas with remote-server-not-found or
// remote-server-timeout; error stanzas are never bounced. Idle streams
// close after s2s.idle_timeout and reopen on the next stanza; while open
// they send white-space keepalives (XEP-0199 §4).
//
// Inbound, Server accepts streams on s2s.addr (STARTTLS) and s2s.tls_addr
// (direct TLS), offers SASL EXTERNAL to peers whose client certificate
// verifies and dialback to the others, acts as the receiving server
// (verifying a db:result with the authoritative server of the claimed
// domain) and as the authoritative server (answering db:verify), and
// hands every stanza whose 'from' domain the stream authenticated and
// whose 'to' is served here to the router. A stanza from another domain
// ends the stream with invalid-from, one to a domain not served here with
// host-unknown; streams per remote address and stanzas per stream are
// bounded.
//
// Components (component.go) connect to components.addr with the
// jabber:component:accept handshake (SHA-1 of stream id and secret) and
// are a router Service on their domain.
//
// Inside the server stanzas are in jabber:client; on the wire they are
// written in the stream's content namespace and read back into
// jabber:client (content.go). The package does not know features: it
// sees the router (Route, Deliver, services) and nothing else of c2s.
package s2s
