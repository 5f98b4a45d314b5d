// Package stanza holds the XML element tree Parley passes around and the
// XMPP views on top of it: message, presence and iq (RFC 6120 §8), stanza
// errors (RFC 6120 §8.3) and helpers to build replies.
//
// It owns the in-memory shape of an element and its serialisation. It does
// not read from sockets (that is xmlstream) and it does not decide where a
// stanza goes (that is router).
package stanza
