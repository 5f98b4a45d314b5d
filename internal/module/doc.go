// Package module is the seam every feature plugs into. A feature is a
// Registrar: its Register method declares, in one place, the IQ handlers,
// disco identities and features, post-authentication stream features and
// stanza hooks it provides. The Registry holds those tables for the router
// and c2s to consult.
//
// Besides stanzas, modules may handle nonzas (top-level elements that are
// not stanzas, per bound session: Nonza, Conn), iqs before authentication
// (PreAuthIQ, PreAuthFeature; XEP-0077) and work to do after a stanza's
// reply is queued (AfterReply). Per-session state lives in the module, in
// a map keyed by Conn and cleaned at SessionClosed.
//
// It owns the registration tables and the IQ dispatch contract ("a handler
// returns; the dispatcher replies exactly once"). It does not route stanzas
// (router) and does not hold sessions (router, c2s).
package module
