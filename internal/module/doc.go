// Package module is the seam every feature plugs into. A feature is a
// Registrar: its Register method declares, in one place, the IQ handlers,
// disco identities and features, post-authentication stream features and
// stanza hooks it provides. The Registry holds those tables for the router
// and c2s to consult.
//
// Besides stanzas, modules may handle nonzas (top-level elements that are
// not stanzas, per bound session: Nonza, Conn), iqs before authentication
// (PreAuthIQ, PreAuthFeature; XEP-0077), features enabled inline in an
// XEP-0386 Bind 2 request (Bind2Inline) and work to do after a stanza's
// reply is queued (AfterReply). Per-session state lives in the module, in
// a map keyed by Conn and cleaned at SessionClosed.
//
// A feature reaches the core only through Host (sessions of a user,
// is-local, account existence, delivery of server stanzas, services on a
// domain of their own), which the router implements; it never holds the
// router itself. A stored feature offers its part of a user's data for
// XEP-0227 import and export as a UserData section.
//
// It owns the registration tables and the IQ dispatch contract ("a handler
// returns; the dispatcher replies exactly once"). It does not route stanzas
// (router) and does not hold sessions (router, c2s).
package module
