// Package csi implements XEP-0352: Client State Indication.
//
// The server offers <csi xmlns='urn:xmpp:csi:0'/> among the stream
// features after authentication (§2.1); a bound client says <inactive/>
// when nobody looks at it and <active/> when somebody does again (§2.2).
// While a session is inactive, this package holds back what is not urgent
// (optimisations §1 suggests): presence updates (available and
// unavailable; only the latest from each sender is kept) and
// chat-state-only messages (XEP-0085), also inside carbon copies.
// Everything else — messages with a body, subscription requests, iqs,
// anything unknown — is urgent and goes out at once, right after whatever
// was held, so the client sees stanzas in the order they were sent.
// <active/> flushes what was held, in order, before the next element from
// that client is read (§3.1, in-order processing). At most MaxHeld stanzas
// or MaxHeldBytes (estimated) are held per session; past that the held
// stanzas are flushed.
//
// The hold happens in a module.Filter hook that runs after every other
// filter (blocking drops first); held stanzas are counted as delivered
// (module.Event.Deferred). What a session holds is forgotten when it ends:
// only presence and chat states, which the next session gets afresh. The
// bounds are constants; there is no configuration yet.
//
// It does not decide where stanzas go (router) or write them (c2s).
package csi
