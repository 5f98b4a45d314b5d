// Package httpd is Parley's public HTTP server: the listeners on
// http.addr (plain) and http.tls_addr (HTTPS with the domains'
// certificates, chosen by SNI), and what they serve to browser clients:
//
//   - /xmpp-websocket: XMPP over WebSocket (RFC 7395), handed to c2s;
//   - /http-bind: BOSH (XEP-0124, XEP-0206), handed to c2s;
//   - /.well-known/host-meta and /.well-known/host-meta.json: XEP-0156
//     discovery of the two (RFC 6415 XRD and JRD);
//   - CORS (the Fetch standard) on all of them: preflights answered for
//     the origins in http.cors_origins, WebSocket handshakes from other
//     origins refused.
//
// It decides who a request's client is (Peer): the connection's address,
// or, behind a proxy in limits.trusted_proxies, the one the proxy put in
// X-Forwarded-For; and whether plain HTTP is trusted like TLS for
// authentication (loopback, or a trusted proxy: docs/security.md).
//
// It owns no XMPP state: sessions, their limits and their end belong to
// c2s. It does not serve the admin surface (internal/admin), which never
// answers cross-origin requests.
package httpd
