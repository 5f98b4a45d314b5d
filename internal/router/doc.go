// Package router decides where every stanza goes (RFC 6120 §10, RFC 6121
// §8). It owns the local session table (full JID → session) and the
// delivery rules for bare and full JIDs; it dispatches iqs to the handlers
// in the module registry and guarantees exactly one reply to each get/set.
// It drops a client's resend of a message it already routed (same sender,
// 'to' and XEP-0359 origin-id, within a bounded window: dedupe.go).
//
// It does not parse XML, write to sockets or touch storage: sessions are
// reached through the small Session interface (implemented by c2s) and
// addresses outside this node through the Remote interface (s2s and
// cluster plug in there).
package router
